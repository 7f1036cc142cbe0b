/**
 * The files `airssys-wasm new` writes, as text. The kit (`kit/js/airssys.js` + `.d.ts`) and the
 * WIT are copied from the package, not kept here, so there is one source for each.
 */

export type Lang = 'js' | 'ts';

export const LANGS: readonly Lang[] = ['js', 'ts'];

/**
 * Linear memory the scaffold declares. StarlingMonkey (componentize-js) needs ~9 MiB to
 * instantiate, and its garbage collector lets the heap grow to ~80 MiB under steady traffic
 * before collecting; it cannot collect early when memory stops growing, it traps. Measured in
 * bench/authoring/engines.mjs; see docs/authoring.md.
 */
export const SCAFFOLD_MEMORY = '128MiB';
export const SCAFFOLD_MEMORY_BYTES = 128 * 1024 * 1024;

export function manifest(name: string, lang: Lang): string {
  return `# ${name}: an airssys component (docs: docs/authoring.md in the airssys-wasm package).
# Every field is checked when the host loads the component; an unknown field is an error.

[component]
name = "${name}"
version = "0.1.0"
description = "${name}, written in ${lang === 'ts' ? 'TypeScript' : 'JavaScript'}"
wasm = "component.wasm"                  # written by \`airssys-wasm build\`
world = "airssys:core/component@1.0.0"   # the WIT in wit/core.wit

[resources]
# The JavaScript engine (StarlingMonkey, via componentize-js) needs ~9 MiB to start, and its
# garbage collector lets the heap grow to ~80 MiB under steady traffic before it collects. At
# this limit the instance traps with out-of-memory and its supervisor restarts it.
# This is above the host's default ceiling (4 MiB): the host must allow it, e.g. with
#   new Engine({ policy: { maxMemoryBytes: 128 * 1024 * 1024 } })
memory = "${SCAFFOLD_MEMORY}"
fuel = 50_000_000         # per call; a greeting costs ~0.3 M, init ~0.9 M
timeout-ms = 2000         # per call, wall clock; a new instance's first calls run cold
mailbox = 1024

[permissions]
# Deny by default: the component gets only what is granted here (and the host allows).
# The example in src/ keeps a counter in this namespace; the rest shows how to grant more.
storage = { namespaces = ["${name}"] }
# storage = { namespaces = ["${name}", "${name}-cache"], quota = "10MiB" }
# messaging = { send = ["billing", "orders.*"], subscribe = ["events.>"] }
# filesystem = { read = ["/data/in/**"], write = ["/data/out/**"] }   # airssys:ext-filesystem
# network = { outbound = ["api.example.com:443"] }                     # airssys:ext-network
# process = { spawn = ["/usr/bin/convert"] }                          # airssys:ext-process

# [supervision]
# restart = "permanent"   # permanent | transient | temporary
# max-restarts = 3
# within-seconds = 5

[config]                  # handed to init, readable with config(key)
greeting = "Hello"
`;
}

const HEADER = (
  name: string,
) => `// ${name}: an airssys component for the world airssys:core/component@1.0.0 (wit/core.wit).
//
//   airssys-wasm build     -> component.wasm
//   node test.mjs          -> builds if needed, runs it in a host and sends it requests
//
// The host calls init once per start, then handleMessage one message at a time. Memory does not
// survive a restart: keep state in storage. The kit (./airssys.js) wraps the host services;
// don't call them at module top level (that code runs at build time), call them from handlers.
`;

export function componentJs(name: string): string {
  return `${HEADER(name)}
import { ComponentError, defineComponent, log, messageText, NONE, respond, storage } from './airssys.js';

// Namespaces must be granted in Component.toml [permissions] storage.namespaces.
const counters = storage('${name}');
let greeting = 'Hello';

export const componentLifecycle = defineComponent({
  // Component.toml [config], as an object.
  init(config) {
    greeting = config.greeting ?? greeting;
    log.info(\`ready (greeting: \${greeting})\`);
  },

  handleMessage(message) {
    const who = messageText(message).trim() || 'world';
    if (who.length > 100) throw new ComponentError('invalid-argument', 'a name is at most 100 characters');
    const count = counters.increment(\`greeted/\${who}\`);
    log.info(\`greeting \${who} (#\${count})\`);
    if (message.kind !== 'request') return NONE;
    return respond(\`\${greeting}, \${who}! (#\${count})\`);
  },

  health() {
    return 'healthy';
  },

  shutdown() {
    log.info('stopping');
  },
});
`;
}

export function componentTs(name: string): string {
  return `${HEADER(name)}
import {
  ComponentError,
  defineComponent,
  type HealthStatus,
  log,
  type Message,
  messageText,
  NONE,
  type Response,
  respond,
  storage,
} from './airssys.js';

// Namespaces must be granted in Component.toml [permissions] storage.namespaces.
const counters = storage('${name}');
let greeting = 'Hello';

export const componentLifecycle = defineComponent({
  // Component.toml [config], as an object.
  init(config: Record<string, string>): void {
    greeting = config.greeting ?? greeting;
    log.info(\`ready (greeting: \${greeting})\`);
  },

  handleMessage(message: Message): Response {
    const who: string = messageText(message).trim() || 'world';
    if (who.length > 100) throw new ComponentError('invalid-argument', 'a name is at most 100 characters');
    const count: number = counters.increment(\`greeted/\${who}\`);
    log.info(\`greeting \${who} (#\${count})\`);
    if (message.kind !== 'request') return NONE;
    return respond(\`\${greeting}, \${who}! (#\${count})\`);
  },

  health(): HealthStatus {
    return 'healthy';
  },

  shutdown(): void {
    log.info('stopping');
  },
});
`;
}

export function testMjs(name: string, lang: Lang): string {
  return `// Builds the component when its sources changed, starts it as an actor in an airssys host (the
// way an application or \`airssys-wasm host\` runs it: init, then one message at a time, storage
// through host-services), and sends it requests. Run: node test.mjs
//
// \`airssys-wasm run --call\` calls one export of a plain component; a component of the world
// airssys:core/component needs a host around it, as below.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentHost, Engine, loadManifest, resolvePolicy } from 'airssys-wasm';

const here = dirname(fileURLToPath(import.meta.url));

function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const wasm = join(here, 'component.wasm');
const sources = ['src', 'wit', 'Component.toml'].map((f) => join(here, f));
if (!existsSync(wasm) || Math.max(...sources.map(newest)) > statSync(wasm).mtimeMs) {
  const cli = fileURLToPath(new URL('./cli/airssys-wasm.js', import.meta.resolve('airssys-wasm')));
  execFileSync(process.execPath, [cli, 'build', here], { stdio: 'inherit' });
}

// The JavaScript engine needs more memory than a host allows by default (4 MiB): this test host
// raises its ceiling to what Component.toml declares. A real host sets its own policy.
const declared = await loadManifest(here, resolvePolicy({ maxMemoryBytes: 2 ** 32 }));
const engine = new Engine({ policy: { maxMemoryBytes: declared.resources.memoryBytes } });
const component = await engine.load(here);

const logs = [];
const host = await ComponentHost.create({ threads: 0, log: (entry) => logs.push(entry) });
try {
  await host.start(component);
  const text = (reply) => new TextDecoder().decode(reply.payload);

  assert.equal(text(await host.request('${name}', 'Ada')), 'Hello, Ada! (#1)');
  assert.equal(text(await host.request('${name}', 'Ada')), 'Hello, Ada! (#2)'); // the counter is in storage
  assert.equal(text(await host.request('${name}', '')), 'Hello, world! (#1)');
  await assert.rejects(host.request('${name}', 'x'.repeat(101)), { code: 'invalid-argument' });
  assert.ok(logs.some((l) => l.message === 'ready (greeting: Hello)'), 'init logged through host-services');

  console.log(\`ok: ${name} (${lang}) answered 4 requests as an actor\`);
} finally {
  await host.close();
}
`;
}

export function packageJson(name: string, lang: Lang, airssysVersion: string): string {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      build: 'airssys-wasm build',
      test: 'node test.mjs',
      ...(lang === 'ts' ? { typecheck: 'tsc --noEmit' } : {}),
    },
    devDependencies: {
      'airssys-wasm': `^${airssysVersion}`,
      ...(lang === 'ts' ? { typescript: '^5.9.0' } : {}),
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** Type-checking only (\`npm run typecheck\`): \`airssys-wasm build\` compiles with esbuild. */
export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'ES2022',
      moduleResolution: 'bundler',
      lib: ['ES2022', 'DOM'],
      strict: true,
      noEmit: true,
      isolatedModules: true,
      skipLibCheck: true,
    },
    include: ['src'],
  },
  null,
  2,
)}\n`;

export const GITIGNORE = 'node_modules/\ncomponent.wasm\n';

export function readme(name: string, lang: Lang): string {
  const source = lang === 'ts' ? 'src/component.ts' : 'src/component.js';
  return `# ${name}

An airssys component written in ${lang === 'ts' ? 'TypeScript' : 'JavaScript'}, for the world
\`airssys:core/component@1.0.0\` (\`wit/core.wit\`).

| file | what |
|---|---|
| \`${source}\` | the component: \`init\`, \`handleMessage\`, \`health\`, \`shutdown\` |
| \`src/airssys.js\`, \`src/airssys.d.ts\` | the kit: host services (log, storage, messaging, config, time) |
| \`Component.toml\` | name, version, limits (\`[resources]\`), what it may use (\`[permissions]\`), \`[config]\` |
| \`wit/core.wit\` | the interfaces the host offers and calls |
| \`test.mjs\` | builds, starts the component in a host, sends it requests |

\`\`\`sh
npm install              # airssys-wasm${lang === 'ts' ? ' and typescript' : ''}
npx airssys-wasm build   # ${source} -> component.wasm (10-60 s: componentize-js)
node test.mjs            # or: npm test
\`\`\`

The build bundles \`${source}\` and its imports with esbuild${lang === 'ts' ? ' (types are stripped, not checked: `npm run typecheck`)' : ''},
turns the bundle into a WebAssembly component with componentize-js (StarlingMonkey), and loads it
in the airssys engine under \`Component.toml\`.

Memory: the JavaScript engine needs more than a host allows by default (4 MiB); \`Component.toml\`
declares ${SCAFFOLD_MEMORY}, and the host that runs the component must raise its ceiling to that
(\`new Engine({ policy: { maxMemoryBytes } })\`, as \`test.mjs\` does).
`;
}
