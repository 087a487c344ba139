/**
 * TypeScript types derived from `as const` JSON Schemas, so a pipeline section's type comes
 * from the same object that validates it (config-sections.ts). Covers the keywords the
 * sections use: type (object, array, string, number, integer, boolean), properties,
 * required, enum, const, if/then/else (then | else), anyOf, and 2-item tuples (minItems =
 * maxItems = 2). `Resolved` is the type after validation with defaults filled in: a property
 * with a `default` is always present; one whose default is conditional (in allOf) stays optional.
 */

type Simplify<T> = {[K in keyof T]: T[K]} & {}

type Required<S> = S extends {required: readonly (infer R)[]} ? R : never

type ObjectOf<P, R> = Simplify<
  {-readonly [K in keyof P as K extends R ? K : P[K] extends {default: unknown} ? K : never]: Resolved<P[K]>} & {
    -readonly [K in keyof P as K extends R ? never : P[K] extends {default: unknown} ? never : K]?: Resolved<P[K]>
  }
>

export type Resolved<S> = S extends {const: infer C}
  ? C
  : S extends {enum: readonly (infer E)[]}
    ? E
    : S extends {then: infer T; else: infer E}
      ? Resolved<T> | Resolved<E>
      : S extends {anyOf: readonly (infer A)[]}
        ? Resolved<A>
        : S extends {type: 'object'; properties: infer P}
          ? ObjectOf<P, Required<S>>
          : S extends {type: 'array'; items: infer I; minItems: 2; maxItems: 2}
            ? [Resolved<I>, Resolved<I>]
            : S extends {type: 'array'; items: infer I}
              ? Resolved<I>[]
              : S extends {type: 'string'}
                ? string
                : S extends {type: 'number' | 'integer'}
                  ? number
                  : S extends {type: 'boolean'}
                    ? boolean
                    : unknown
