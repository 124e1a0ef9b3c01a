import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Ajv, type Options } from 'ajv';
import type { FastifyInstance, FastifySchemaValidationError, FastifyServerOptions } from 'fastify';

/*
 * How route schemas become validators and serializers. Both are compiled on a route's first
 * use rather than when the server starts: compiling every route's schemas was most of the
 * start-up time, which every `ordercast serve` (and every restart after a crash) pays, while
 * a server answers few of its routes soon after it starts.
 */

const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true, strict: false };

type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null };

/**
 * JSON bodies are validated strictly: `{"status": 5}` is a type error, not "5".
 * Query strings and path parameters are text by nature, so they are coerced.
 */
export function registerValidators(app: FastifyInstance): void {
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    let compiled: Validate | undefined;
    // Fastify reads why a validation failed from the function's `errors`.
    const validate: Validate = (data) => {
      compiled ??= ajv.compile(schema) as Validate;
      const valid = compiled(data);
      validate.errors = compiled.errors;
      return valid;
    };
    return validate;
  });
}

/** The `schemaController` option: Fastify's own response serializers, each built on its route's first answer. */
export function lazySerializers(): NonNullable<FastifyServerOptions['schemaController']> {
  const buildSerializer = SerializerSelector();
  return {
    compilersFactory: {
      buildSerializer: (externalSchemas, options) => {
        const compile = buildSerializer(externalSchemas, options);
        return (route) => {
          let serialize: ((data: unknown) => string) | undefined;
          return (data: unknown) => (serialize ??= compile(route))(data);
        };
      },
    },
  };
}
