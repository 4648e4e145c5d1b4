// The vendor's OpenAPI schemas as assertions, shared by the emulator conformance tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const requireCjs = createRequire(import.meta.url);
const Ajv2020 = requireCjs('ajv/dist/2020').default;
const spec = JSON.parse(readFileSync(path.join(root, 'test', 'openapi', 'parallel-openapi.json'), 'utf8'));
/** The Ajv (JSON Schema 2020-12) instance holding the spec's components. */
export const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addKeyword('discriminator');
ajv.addSchema({ $id: 'openapi', components: spec.components });

/**
 * Assert that value is valid against the spec's components/schemas/<name>.
 * @param {string} name
 * @param {unknown} value
 */
export function conforms(name, value) {
  const v = ajv.getSchema(`openapi#/components/schemas/${name}`);
  assert.ok(v, `schema ${name}`);
  assert.ok(v(value), `${name}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 400)}`);
}
