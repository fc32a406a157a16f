/**
 * The lab's own small programs (the scripted chat clients, the relay inside a namespace, the demo's
 * reaper), run as child
 * processes like the `wirelab` command: from the TypeScript sources through tsx in a checkout, from
 * dist/ once built. `scriptEntry(name)` is what goes before their arguments on node's command line.
 */
import { fileURLToPath } from 'node:url';

export type LabScript = 'chat-bot' | 'relay' | 'reaper';

/** node's arguments that run a lab script (then its own arguments follow). */
export function scriptEntry(name: LabScript): string[] {
  if (import.meta.url.endsWith('.ts')) {
    // an absolute loader URL: the child may start in any directory
    return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL(`./${name}.ts`, import.meta.url))];
  }
  return [fileURLToPath(new URL(`./${name}.js`, import.meta.url))];
}
