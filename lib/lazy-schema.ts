import type { z as Z } from 'zod';

/** zod's `z`, loaded on the first body parse: about half of the package's import time otherwise. */
export type Zod = typeof Z;

let loading: Promise<Zod> | undefined;
const loadZod = (): Promise<Zod> => {
  loading ??= import('zod').then((module) => module.z);
  return loading;
};

type Parser<T> = { safeParse(body: unknown): Z.ZodSafeParseResult<T> };

/** A request body schema built on first use, once zod is loaded (see `parseBody`). */
export interface LazySchema<T> {
  get(): Promise<Parser<T>>;
  /** The schema once built, so a request after the first parses without waiting a tick. */
  built(): Parser<T> | undefined;
}

export function lazySchema<S extends Z.ZodType>(build: (z: Zod) => S): LazySchema<Z.infer<S>> {
  let schema: S | undefined;
  return {
    async get() {
      schema ??= build(await loadZod());
      return schema;
    },
    built: () => schema,
  };
}
