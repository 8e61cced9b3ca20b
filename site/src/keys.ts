// Keyboard shortcuts: one table, used by the key handler, the buttons' titles and the help dialog.

export type Command =
  | 'step'
  | 'back'
  | 'next-event'
  | 'run-to'
  | 'restart'
  | 'nmi'
  | 'bp'
  | 'db'
  | 'pf'
  | 'explore'
  | 'cancel'
  | 'edit'
  | 'link'
  | 'help';

export interface Shortcut {
  command: Command;
  keys: string[];
  what: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { command: 'step', keys: ['ArrowRight', 's'], what: 'step one instruction' },
  { command: 'back', keys: ['ArrowLeft', 'a'], what: 'step back one instruction' },
  { command: 'next-event', keys: ['e'], what: 'run to the next event (a delivery, an IRET, NMI blocking changes)' },
  { command: 'run-to', keys: ['g'], what: 'run to a label (type it, then Enter)' },
  { command: 'restart', keys: ['Home'], what: 'back to step 0 (the schedule stays)' },
  { command: 'nmi', keys: ['n'], what: 'raise an NMI at this boundary' },
  { command: 'bp', keys: ['b'], what: 'raise #BP here (at an exception point)' },
  { command: 'db', keys: ['d'], what: 'raise #DB here (at an exception point)' },
  { command: 'pf', keys: ['p'], what: 'raise #PF here (at an exception point)' },
  { command: 'explore', keys: ['x'], what: 'explore this design within the bound' },
  { command: 'cancel', keys: ['Escape'], what: 'cancel the exploration; leave the editor' },
  { command: 'edit', keys: ['i'], what: 'edit the listing (Ctrl+Enter runs it)' },
  { command: 'link', keys: ['l'], what: 'copy a link to this moment' },
  { command: 'help', keys: ['?'], what: 'show these shortcuts' },
];

/** The command a key press means, or null. */
export function commandFor(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean }): Command | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  for (const s of SHORTCUTS) if (s.keys.includes(e.key)) return s.command;
  return null;
}

const KEY_NAMES: Record<string, string> = { ArrowRight: '→', ArrowLeft: '←', Escape: 'Esc' };

/** How a command's keys read on a button: '→ / s'. */
export function keysText(command: Command): string {
  const s = SHORTCUTS.find((x) => x.command === command);
  return s ? s.keys.map((k) => KEY_NAMES[k] ?? k.toUpperCase()).join(' / ') : '';
}
