// The listing pane: CodeMirror 6 views of the design's listing and of the harness files, one per
// file, shown by tabs. It follows the current instruction (highlighted, scrolled into view, in
// whichever file it is), lets the user edit the design's listing, and shows the assembler's
// file:line:column diagnostics inline (lint markers) on the line they name.
import { EditorState, StateEffect, StateField, Compartment } from '@codemirror/state';
import type { Extension } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  keymap,
  lineNumbers,
  drawSelection,
  highlightActiveLine,
  highlightSpecialChars,
} from '@codemirror/view';
import type { DecorationSet } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching } from '@codemirror/language';
import { gas } from '@codemirror/legacy-modes/mode/gas';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import type { Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { search, searchKeymap } from '@codemirror/search';
import type { Diagnostic } from './library';

const setCurrentLine = StateEffect.define<number | null>();
const currentLineDeco = Decoration.line({ class: 'cm-current-insn' });

/** The line of the instruction about to run, as a line decoration. */
const currentLine = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    let d = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setCurrentLine)) continue;
      d =
        e.value === null || e.value > tr.state.doc.lines
          ? Decoration.none
          : Decoration.set([currentLineDeco.range(tr.state.doc.line(e.value).from)]);
    }
    return d;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface ListingHandlers {
  /** The design's listing changed (typing). */
  edited(text: string): void;
  /** Run the edited listing (Ctrl/Cmd+Enter). */
  apply(): void;
  /** The user clicked a line number: run to that line's first instruction. */
  runToLine(file: string, line: number): void;
}

interface FileView {
  name: string;
  text: string;
  /** Made the first time the file is shown (the harness's files may never be). */
  view: EditorView | null;
  box: HTMLElement;
  tab: HTMLButtonElement;
  /** The current instruction's line in this file (null: not in this file). */
  line: number | null;
}

export class Listing {
  private readonly files = new Map<string, FileView>();
  private shown: string | null = null;
  private designFile = '';
  private readonly editable = new Compartment();
  private editing = false;
  private silent = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly tabs: HTMLElement,
    private readonly handlers: ListingHandlers,
  ) {}

  /** The files to show: the design's listing first, then the harness's. */
  setFiles(designFile: string, files: { name: string; text: string }[]): void {
    for (const f of this.files.values()) {
      f.view?.destroy();
      f.box.remove();
      f.tab.remove();
    }
    this.files.clear();
    this.shown = null;
    this.designFile = designFile;
    for (const f of files) this.addFile(f.name, f.text);
    // No view is made yet: follow() shows the file the current instruction is in (views cost).
  }

  private extensions(name: string): Extension[] {
    const isDesign = name === this.designFile;
    const runToLine = (view: EditorView, line: { from: number }) => {
      this.handlers.runToLine(name, view.state.doc.lineAt(line.from).number);
      return true;
    };
    const ext: Extension[] = [
      lineNumbers({ domEventHandlers: { mousedown: (view, line) => runToLine(view, line) } }),
      highlightSpecialChars(),
      drawSelection(),
      StreamLanguage.define(gas),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      bracketMatching(),
      search({ top: true }),
      currentLine,
      keymap.of([...searchKeymap]),
    ];
    if (isDesign) {
      ext.push(
        history(),
        highlightActiveLine(),
        lintGutter(),
        this.editable.of([EditorState.readOnly.of(true), EditorView.editable.of(false)]),
        keymap.of([
          { key: 'Mod-Enter', run: () => (this.handlers.apply(), true) },
          indentWithTab,
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && !this.silent) this.handlers.edited(u.state.doc.toString());
        }),
      );
    } else {
      ext.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
    }
    return ext;
  }

  private addFile(name: string, text: string): void {
    const box = document.createElement('div');
    box.className = 'cm-box';
    box.hidden = true;
    this.host.appendChild(box);
    const tab = document.createElement('button');
    tab.type = 'button';
    tab.className = 'file-tab';
    tab.textContent = name.replace(/^harness\//, '');
    tab.title = name;
    tab.addEventListener('click', () => this.show(name));
    this.tabs.appendChild(tab);
    this.files.set(name, { name, text, view: null, box, tab, line: null });
  }

  private viewOf(f: FileView): EditorView {
    if (f.view === null) {
      const state = EditorState.create({ doc: f.text, extensions: this.extensions(f.name) });
      f.view = new EditorView({ state, parent: f.box });
      f.view.contentDOM.setAttribute('aria-label', `listing ${f.name}`);
      if (f.line !== null) f.view.dispatch({ effects: setCurrentLine.of(f.line) });
    }
    return f.view;
  }

  /** Show one file's view. */
  show(name: string): void {
    if (this.shown === name) return;
    const f = this.files.get(name);
    if (f === undefined) return;
    for (const g of this.files.values()) {
      g.box.hidden = g !== f;
      g.tab.classList.toggle('active', g === f);
      g.tab.setAttribute('aria-pressed', String(g === f));
    }
    this.shown = name;
    this.viewOf(f).requestMeasure();
  }

  /** Highlight the current instruction's line, in its file (null: none, e.g. no code there). */
  follow(file: string | null, line: number | null): void {
    const target = file === null ? undefined : this.files.get(file);
    // While editing, stay on the listing being edited.
    if (target !== undefined && !(this.editing && this.shown === this.designFile)) this.show(target.name);
    else if (this.shown === null) this.show(this.designFile);
    for (const f of this.files.values()) {
      const mine = f === target ? line : null;
      if (f.line === mine) continue;
      f.line = mine;
      if (f.view === null) continue;
      const effects: StateEffect<unknown>[] = [setCurrentLine.of(mine)];
      // Scrolled into view in the file shown, with the highlight, in one update.
      if (mine !== null && this.shown === f.name && mine <= f.view.state.doc.lines)
        effects.push(EditorView.scrollIntoView(f.view.state.doc.line(mine).from, { y: 'nearest', yMargin: 48 }));
      f.view.dispatch({ effects });
    }
  }

  /** Turn editing of the design's listing on or off. */
  setEditing(on: boolean): void {
    this.editing = on;
    const f = this.files.get(this.designFile);
    if (f === undefined) return;
    if (!on && f.view === null) return;
    const view = this.viewOf(f);
    view.dispatch({
      effects: this.editable.reconfigure(on ? [] : [EditorState.readOnly.of(true), EditorView.editable.of(false)]),
    });
    if (on) {
      this.show(this.designFile);
      view.focus();
    }
  }

  get isEditing(): boolean {
    return this.editing;
  }

  /** The design's listing as it is in the editor. */
  get text(): string {
    const f = this.files.get(this.designFile);
    return f === undefined ? '' : f.view === null ? f.text : f.view.state.doc.toString();
  }

  /** Replace the design's listing text (without calling `edited`). */
  setText(text: string): void {
    const f = this.files.get(this.designFile);
    if (f === undefined || this.text === text) return;
    const view = this.viewOf(f);
    this.silent = true;
    try {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    } finally {
      this.silent = false;
    }
  }

  /** The assembler's diagnostics for the design's listing, inline at their line and column. */
  setDiagnostics(diagnostics: readonly Diagnostic[]): void {
    const f = this.files.get(this.designFile);
    if (f === undefined || (f.view === null && diagnostics.length === 0)) return;
    const view = this.viewOf(f);
    const doc = view.state.doc;
    const marks: CmDiagnostic[] = [];
    for (const d of diagnostics) {
      if (d.file !== this.designFile) continue;
      const line = doc.line(Math.min(Math.max(1, d.line), doc.lines));
      const from = Math.min(line.from + Math.max(0, d.column - 1), line.to);
      // Underline the word the column points at (or the rest of the line).
      const rest = doc.sliceString(from, line.to);
      const word = /^[^\s,()]+/.exec(rest);
      const to = word ? from + word[0].length : line.to;
      marks.push({
        from,
        to: Math.max(to, from),
        severity: d.severity === 'error' ? 'error' : 'warning',
        message: `${d.file}:${d.line}:${d.column}: ${d.message}`,
        source: 'assembler',
      });
    }
    view.dispatch(setDiagnostics(view.state, marks));
  }
}
