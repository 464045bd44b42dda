/**
 * Makes `instanceof cls` recognise instances from either build of this package. An app may load
 * the ESM build (`import`) and the CommonJS one (`require`, Jest, a CommonJS dependency) at once:
 * each has its own copy of every class, and a plain `instanceof` fails across them. The brand is a
 * global symbol (`Symbol.for`), the same in both copies. Subclasses keep the ordinary check.
 */
export function brandedInstanceof(cls: abstract new (...args: never[]) => unknown, name: string): void {
  const brand = Symbol.for(`express-mfa.${name}`);
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return (
        typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
      );
    },
  });
}
