// core/suggest.ts: the Ingest API's suggested output schema as tg's fields (--intent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldNameOf, fieldsFromSuggestion, fieldOption, pickProcessor, shellQuote, warningLines } from '../../src/core/suggest';
import { parseFields, specFromFields } from '../../src/core/fields';
import { PROCESSORS } from '../../src/core/processors';

test('suggested names become names tg accepts: lowercase a-z0-9_, a letter first, never a basis name, each once', () => {
  assert.equal(fieldNameOf('ceo_name'), 'ceo_name');
  assert.equal(fieldNameOf('CEO Name'), 'ceo_name');
  assert.equal(fieldNameOf('ceoName'), 'ceo_name');
  assert.equal(fieldNameOf('Année de création'), 'annee_de_creation');
  assert.equal(fieldNameOf('2024 revenue ($)'), 'f_2024_revenue');
  assert.equal(fieldNameOf('---'), 'field');
  assert.equal(fieldNameOf('x'.repeat(80)).length, 64);
  assert.deepEqual(['citations', 'sources', 'confidence', 'reasoning', 'basis', 'Citations'].map(fieldNameOf), [
    'citation_list',
    'source_list',
    'confidence_level',
    'reasoning_text',
    'basis_text',
    'citation_list',
  ]);
  const { fields, notes } = fieldsFromSuggestion({
    type: 'object',
    properties: {
      'CEO Name': { type: 'string', description: 'the CEO' },
      ceo_name: { type: 'string' },
      citations: { type: 'array', items: { type: 'string' } },
    },
  });
  assert.deepEqual(
    fields.map((f) => [f.name, f.type, f.description]),
    [
      ['ceo_name', 'text', 'the CEO'],
      ['ceo_name_2', 'text', 'ceo name 2'],
      ['citation_list', 'list', 'citation list'],
    ],
  );
  assert.deepEqual(notes, [
    '"CEO Name" renamed ceo_name: field names are lowercase a-z, 0-9 and _, starting with a letter',
    '"ceo_name" renamed ceo_name_2: another field is named ceo_name',
    '"citations" renamed citation_list: the output\'s basis gives every field its own citations',
  ]);
});

test('suggested types become field types; what tg cannot keep is said', () => {
  const { fields, notes } = fieldsFromSuggestion({
    type: 'object',
    properties: {
      year: { type: 'integer', description: 'Year' },
      revenue: { type: ['number', 'null'], description: 'Revenue' },
      public: { type: 'boolean', description: 'Listed' },
      founded: { type: 'string', format: 'date', description: 'Date' },
      site: { type: 'string', format: 'uri', description: 'Site' },
      tier: { type: 'string', enum: ['low', 'high'], description: 'Tier' },
      people: { type: 'array', items: { type: 'object' }, description: 'People' },
      hq: { type: 'object', properties: { city: { type: 'string' } }, description: 'HQ' },
      odd: 'not a schema',
    },
  });
  assert.deepEqual(
    fields.map((f) => `${f.name}:${f.type}: ${f.description}`),
    [
      'year:int: Year',
      'revenue:number: Revenue',
      'public:bool: Listed',
      'founded:date: Date',
      'site:url: Site',
      'tier:text: Tier (one of: low, high)',
      'people:list: People',
      'hq:text: HQ',
      'odd:text: odd',
    ],
  );
  assert.deepEqual(notes, [
    'people: a list of object, asked for as a list of text',
    'hq: object in the suggestion, asked for as text',
    'odd: no type in the suggestion, asked for as text',
  ]);
  // Round trip: the --field options printed give the very same spec
  assert.deepEqual(specFromFields(parseFields(fields.map(fieldOption))), specFromFields(fields));
  assert.deepEqual(fieldsFromSuggestion({}).fields, []);
  assert.deepEqual(fieldsFromSuggestion(null).fields, []);
});

test('processor pick, warnings, shell quoting', () => {
  assert.deepEqual(pickProcessor(['pro', 'ultra'], PROCESSORS), { processor: 'pro', skipped: [] });
  assert.deepEqual(pickProcessor(['mega', 'core-fast'], PROCESSORS), { processor: 'core-fast', skipped: ['mega'] });
  assert.deepEqual(pickProcessor(['mega'], PROCESSORS), { processor: null, skipped: ['mega'] });
  assert.deepEqual(pickProcessor(undefined, PROCESSORS), { processor: null, skipped: [] });
  assert.deepEqual(warningLines([{ type: 'schema_generalization', message: 'check names' }, 'plain', { message: 'no type' }]), [
    'schema_generalization: check names',
    'plain',
    'no type',
  ]);
  assert.deepEqual(warningLines(undefined), []);
  assert.equal(shellQuote('ceo: the CEO'), `'ceo: the CEO'`);
  assert.equal(shellQuote("the CEO's name"), `'the CEO'\\''s name'`);
  assert.equal(shellQuote('plain_word'), 'plain_word');
});
