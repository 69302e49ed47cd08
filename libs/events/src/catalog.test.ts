import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { catalog, createCatalog, defineUpcaster, definitions } from './catalog.js';
import { createEventFactory } from './create-event.js';
import { defineEvent, toJsonSchema } from './define-event.js';
import type { RequestSync } from './events/commands.js';
import { olderSampleInputs, sampleInputs } from './testing/samples.js';
import { topicSpecs, topics } from './topics.js';
import { EventSchemaError } from './validate.js';

const make = createEventFactory({ source: 'catalog-test' });

describe('the event catalog', () => {
  it('declares each type and version once', () => {
    const keys = definitions.map((d) => `${d.type}@${d.version}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('puts every event on a declared topic and every topic carries at least one event', () => {
    const names = new Set(topicSpecs.map((t) => t.name));
    for (const d of definitions) assert.ok(names.has(d.topic), `${d.type} names ${d.topic}`);
    for (const t of topicSpecs) assert.ok(catalog.onTopic(t.name).length > 0, `${t.name} has events`);
  });

  it('keeps commands, and only commands, on the commands topic', () => {
    assert.deepEqual(
      catalog.onTopic(topics.commands).map((d) => d.type),
      [
        'RequestSync',
        'RetrySyncError',
        'RetryRunErrors',
        'PauseSync',
        'ResumeSync',
        'SetSyncInterval',
        'EraseConnectionData',
        'EraseOrgData',
        'UpsertRecord',
        'DeleteRecord',
      ],
    );
  });

  it('has a valid sample for every event, which reads back unchanged', () => {
    for (const d of definitions.filter((d) => catalog.latest(d.type) === d)) {
      const input = sampleInputs[d.type];
      assert.ok(input, `sample for ${d.type}`);
      const event = make(d, input as never);
      assert.deepEqual(catalog.read(JSON.parse(JSON.stringify(event))), event);
    }
  });

  it('generates a closed draft-07 JSON Schema for every event', () => {
    for (const d of definitions) {
      const schema = toJsonSchema(d);
      assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
      assert.equal(schema.additionalProperties, false, d.type);
      assert.deepEqual((schema.properties as Record<string, { const?: unknown }>).type?.const, d.type);
    }
  });
});

describe('push commands of version 1', () => {
  it('has a sample for every version no longer written', () => {
    for (const d of definitions.filter((d) => catalog.latest(d.type) !== d)) {
      assert.ok(`${d.type}@${d.version}` in olderSampleInputs, `${d.type}@${d.version}`);
    }
  });

  it('reads an UpsertRecord v1 as v2, its caller-chosen requestId dropped for the command id', () => {
    const v1 = make(catalog.find('UpsertRecord', 1) as never, olderSampleInputs['UpsertRecord@1'] as never);
    const read = catalog.read(JSON.parse(JSON.stringify(v1)));
    assert.equal(read.version, 2);
    assert.equal(read.id, (v1 as { id: string }).id);
    assert.equal('requestId' in (read.data as object), false);
    assert.deepEqual((read.data as { payload: unknown }).payload, { DisplayName: 'Amy’s Bird Sanctuary' });
  });

  it('reads a DeleteRecord v1 as a v2 delete (not a void)', () => {
    const v1 = make(catalog.find('DeleteRecord', 1) as never, olderSampleInputs['DeleteRecord@1'] as never);
    const read = catalog.read(JSON.parse(JSON.stringify(v1)));
    assert.equal(read.version, 2);
    assert.deepEqual(read.data, {
      connectionId: olderSampleInputs['DeleteRecord@1'].data.connectionId,
      entity: 'Invoice',
      entityId: '130',
      syncToken: '2',
    });
  });
});

describe('reading a received event', () => {
  it('refuses a message that is not an envelope, naming the fields', () => {
    assert.throws(
      () => catalog.read({ type: 'TokenRotated', version: 1 }),
      (err: unknown) =>
        err instanceof EventSchemaError && /id: /.test(err.message) && /orgId: /.test(err.message),
    );
  });

  it('refuses an unknown type and an unknown version with distinct codes', () => {
    const event = make(catalog.latest('RequestSync') as typeof RequestSync, sampleInputs.RequestSync);
    assert.throws(() => catalog.read({ ...event, type: 'SomethingElse' }), { code: 'unknown_type' });
    assert.throws(() => catalog.read({ ...event, version: 9 }), { code: 'unknown_version' });
  });

  it('drops fields a newer producer added instead of refusing the event', () => {
    const event = make(catalog.latest('RequestSync') as typeof RequestSync, sampleInputs.RequestSync);
    const read = catalog.read({ ...event, data: { ...event.data, priority: 'high' } });
    assert.deepEqual(read, event);
  });

  it('upcasts an older version to the newest through the registered upcasters', () => {
    const v1 = defineEvent({
      type: 'WidgetMoved',
      version: 1,
      topic: topics.records,
      description: 'test',
      data: z.object({ to: z.string() }),
    });
    const v2 = defineEvent({
      type: 'WidgetMoved',
      version: 2,
      topic: topics.records,
      description: 'test',
      data: z.object({ destination: z.object({ name: z.string() }) }),
    });
    const local = createCatalog([v1, v2], [defineUpcaster(v1, v2, (d) => ({ destination: { name: d.to } }))]);
    const old = createEventFactory({ source: 'old-writer' })(v1, { orgId: 'org-1', data: { to: 'shelf' } });
    const read = local.read(old);
    assert.equal(read.version, 2);
    assert.deepEqual(read.data, { destination: { name: 'shelf' } });
  });

  it('refuses an older version that has no upcaster', () => {
    const v1 = defineEvent({
      type: 'WidgetMoved',
      version: 1,
      topic: topics.records,
      description: 't',
      data: z.object({}),
    });
    const v2 = defineEvent({
      type: 'WidgetMoved',
      version: 2,
      topic: topics.records,
      description: 't',
      data: z.object({}),
    });
    const old = make(v1, { orgId: 'org-1', data: {} });
    assert.throws(() => createCatalog([v1, v2]).read(old), { code: 'no_upcaster' });
  });
});
