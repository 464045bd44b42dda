// A module resolve hook: every `import 'express'` resolves to the Express at `data.target` (a file
// URL), so the same test files run against another major version of Express.
let target;

export function initialize(data) {
  target = data.target;
}

export async function resolve(specifier, context, next) {
  if (specifier === 'express') return { url: target, format: 'commonjs', shortCircuit: true };
  return next(specifier, context);
}
