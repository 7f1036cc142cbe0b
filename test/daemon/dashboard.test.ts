// Static checks of the dashboard page the daemon serves at `GET /`: one self-contained file, no
// markup built from data, the admin endpoints it relies on, well-formed HTML and a script that compiles.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';

const FILE = fileURLToPath(new URL('../../src/daemon/dashboard.html', import.meta.url));
const html = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '';

const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

function scripts(text: string): string[] {
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]!);
}

/** Markup with comments and the bodies of <script> and <style> removed. */
function markup(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style)\b([^>]*)>[\s\S]*?<\/\1>/gi, '<$1$2></$1>');
}

/** Every element closed in order (the page writes no optional end tags), or the first mismatch. */
function unbalancedTag(text: string): string | null {
  const stack: string[] = [];
  for (const m of markup(text).matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, raw, selfClosing] = m;
    const tag = raw!.toLowerCase();
    if (VOID.has(tag) || selfClosing) continue;
    if (!closing) stack.push(tag);
    else if (stack.pop() !== tag) return `</${tag}> at offset ${m.index}`;
  }
  return stack.length ? `<${stack.at(-1)}> never closed` : null;
}

describe('dashboard page', () => {
  it('dashboard — exists beside the daemon', () => {
    expect(existsSync(FILE)).toBe(true);
    expect(html).toMatch(/^<!doctype html>/i);
  });

  it('dashboard — loads nothing from another origin', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\bsrc\s*=|<link\b|@import|url\(/i);
  });

  it('dashboard — never writes markup from data (no innerHTML, outerHTML, insertAdjacentHTML, document.write)', () => {
    expect(html).not.toMatch(/innerHTML/);
    expect(html).not.toMatch(/outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(/);
  });

  it('dashboard — uses every admin endpoint it depends on', () => {
    const script = scripts(html).join('\n');
    for (const endpoint of [
      '/v1/status',
      '/v1/components',
      '/v1/deployments',
      '/v1/rollback',
      '/v1/events',
      '/v1/audit',
      '/v1/cluster',
    ]) {
      expect(script, endpoint).toContain(endpoint);
    }
    expect(script).toMatch(/\/v1\/addresses\/\$\{encodeURIComponent\(address\)\}\/request/);
    expect(script).toMatch(/Authorization: `Bearer \$\{token\}`/);
    expect(script).toContain('sessionStorage');
    expect(script).toMatch(/status === 401/);
  });

  it('dashboard — is well-formed HTML with unique ids, and the script finds every id it asks for', () => {
    expect(unbalancedTag(html)).toBeNull();
    const ids = [...markup(html).matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
    expect(new Set(ids).size).toBe(ids.length);
    const wanted = new Set(
      [
        ...scripts(html)
          .join('\n')
          .matchAll(/\$\('([\w-]+)'\)/g),
      ].map((m) => m[1]!),
    );
    expect(wanted.size).toBeGreaterThan(10);
    for (const id of wanted) expect(ids, id).toContain(id);
  });

  it('dashboard — has one inline script that compiles as plain JavaScript', () => {
    const all = scripts(html);
    expect(all).toHaveLength(1);
    expect(() => new Script(all[0]!, { filename: 'dashboard.html' })).not.toThrow();
  });

  it('dashboard — every form control has a label', () => {
    const page = markup(html);
    const labelled = new Set([...page.matchAll(/<label\b[^>]*\bfor="([^"]+)"/g)].map((m) => m[1]!));
    for (const m of page.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
      const attrs = m[2]!;
      if (/type="radio"/.test(attrs)) continue; // wrapped in their <label>
      const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
      expect(id && labelled.has(id), `<${m[1]}${attrs}>`).toBe(true);
    }
  });

  it('dashboard — stays a single small file', () => {
    expect(html.split('\n').length).toBeLessThan(720);
  });
});
