import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { definitions } from './catalog.js';
import { topicSpecs } from './topics.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it('lists every event of the catalog with its topic', () => {
    for (const d of definitions) {
      assert.match(
        readme,
        new RegExp(`\\| \`${d.type}\` v${d.version} \\| \`${d.topic.replaceAll('.', '\\.')}\` \\|`),
        d.type,
      );
    }
  });

  it('lists every topic', () => {
    for (const t of topicSpecs) assert.ok(readme.includes(`| \`${t.name}\` | \`${t.key}\` |`), t.name);
  });
});
