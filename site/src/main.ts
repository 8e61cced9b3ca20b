// The playground page: a stepper over one harness kernel (session.ts), the listing (listing.ts),
// the explorer in Web Workers (worker.ts), and the URL as the page's memory (url-state.ts).
// Everything runs here, in the browser; the page is static files.
import { Session } from './session';
import { Listing } from './listing';
import { Cancelled, ExplorerClient } from './explorer-client';
import { checkEdited, shippedDesign } from './designs';
import type { DesignRef } from './designs';
import { drawChart } from './plot';
import { commandFor, keysText, SHORTCUTS } from './keys';
import type { Command } from './keys';
import { compressSource, DEFAULT_STATE, readFragment, writeFragment } from './url-state';
import type { PageState } from './url-state';
import { esc, eventsView, hex, registersView, stacksView, statusHtml, statusItems } from './views';
import type { ExplorerReply } from './protocol';
import {
  harnessSources,
  listDesigns,
  parseSchedule,
  ScheduleSyntaxError,
  summarizeDesign,
  WORKLOADS,
  formatDiagnostic,
} from './library';
import type {
  Design,
  Diagnostic,
  ScheduleEventKind,
  StackDiagram,
  ViolationReport,
  WorkloadId,
  WorkloadReport,
  SampleReport,
} from './library';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
};

/** Steps the timeline covers at most (the last ones up to the current step). */
const TIMELINE_WINDOW = 4000;

/** What the page exposes for its tests and the benchmark (read-only use). */
interface PageProbe {
  ready: boolean;
  readyAt: number;
  /** Milliseconds from a key press to the redrawn views, the latest last (at most 1000). */
  latencies: number[];
  /** The same to the next frame after it (the redrawn views painted), at most 1000. */
  frameLatencies: number[];
  /** How long the last exploration took here, from the click to the reports (ms). */
  exploreMs: number | null;
  renders: number;
  timelines: number;
  explored: number;
  /** The design's listing as it is in the editor. */
  listing(): string;
  /** The last exploration's reports, as the worker sent them. */
  reports: WorkloadReport[] | null;
  state(): { design: string; workload: string; step: number; schedule: string; where: string };
}

declare global {
  interface Window {
    nmiLab: PageProbe;
  }
}

class Page {
  private session!: Session;
  private designId = DEFAULT_STATE.design;
  /** The design's listing as the session runs it, when edited (null: the shipped listing). */
  private edited: string | null = null;
  private compressed: { text: string; value: string } | null = null;
  private previousStacks: StackDiagram[] = [];
  private previousRegs: Record<string, bigint> | null = null;
  private readonly listing: Listing;
  /** The explorer's worker (explore, sample), and a second one for listing checks and timelines. */
  private readonly explorer = new ExplorerClient('worker.js');
  private readonly background = new ExplorerClient('worker.js');
  private timelineTimer: number | undefined;
  private checkTimer: number | undefined;
  private urlTimer: number | undefined;
  private depth = DEFAULT_STATE.depth;
  private exceptions = DEFAULT_STATE.exceptions;
  readonly probe: PageProbe;

  constructor() {
    this.listing = new Listing($('editor'), $('files'), {
      edited: (text) => this.onEdited(text),
      apply: () => void this.applyEdit(),
      runToLine: (file, line) => this.runToLine(file, line),
    });
    this.probe = {
      ready: false,
      readyAt: 0,
      latencies: [],
      frameLatencies: [],
      exploreMs: null,
      renders: 0,
      timelines: 0,
      explored: 0,
      reports: null,
      listing: () => this.listing.text,
      state: () => ({
        design: this.session.design.id,
        workload: this.session.workload,
        step: this.session.step,
        schedule: this.session.scheduleText(),
        where: this.session.kernel.where(),
      }),
    };
    window.nmiLab = this.probe;
  }

  // ---- start ---------------------------------------------------------------------------------

  async start(): Promise<void> {
    performance.mark('nmi-lab:start');
    this.fillSelects();
    this.wire();
    performance.mark('nmi-lab:designs');
    const { state, problems } = await readFragment(location.hash);
    const more = this.open(state);
    performance.mark('nmi-lab:session');
    this.render();
    performance.mark('nmi-lab:rendered');
    this.probe.readyAt = performance.now();
    this.probe.ready = true;
    this.warmSoon();
    document.body.classList.add('ready');
    const all = [...problems, ...more];
    if (all.length > 0) this.say(all.join(' · '), 'bad');
    else if (location.hash === '')
      this.say(
        'Step with → (or S), raise an NMI with N, run to the next event with E; Examples (top right) opens the story’s key moments. Press ? for every shortcut.',
        'info',
      );
  }

  private fillSelects(): void {
    const designs = listDesigns();
    $('design').innerHTML = designs
      .map((d) => `<option value="${esc(d.id)}">${esc(d.id)} (${d.year})</option>`)
      .join('');
    const w = WORKLOADS.map((x) => `<option value="${x}">${x}</option>`).join('');
    $('workload').innerHTML = w;
    $('x-workload').innerHTML = `<option value="">all workloads</option>${w}`;
    $('help-keys').innerHTML = SHORTCUTS.map(
      (s) => `<tr><td><kbd>${esc(keysText(s.command))}</kbd></td><td>${esc(s.what)}</td></tr>`,
    ).join('');
    const titled: [string, Command][] = [
      ['c-step', 'step'],
      ['c-back', 'back'],
      ['c-next', 'next-event'],
      ['c-run-to', 'run-to'],
      ['c-restart', 'restart'],
      ['r-nmi', 'nmi'],
      ['r-bp', 'bp'],
      ['r-db', 'db'],
      ['r-pf', 'pf'],
      ['x-run', 'explore'],
      ['x-cancel', 'cancel'],
      ['edit', 'edit'],
      ['link', 'link'],
      ['help-button', 'help'],
    ];
    for (const [id, c] of titled) {
      const el = $(id);
      const what = SHORTCUTS.find((s) => s.command === c)?.what ?? '';
      el.title = `${what} (${keysText(c)})`;
      el.setAttribute('aria-keyshortcuts', keysText(c).replace(/ \/ /g, ' '));
    }
  }

  /**
   * Open a state (from the URL, or a violation): the design (shipped or edited), the workload, the
   * schedule and the step. Returns problems in words; what cannot be used falls back to a default.
   */
  private open(state: PageState): string[] {
    const problems: string[] = [];
    let base: Design;
    try {
      base = shippedDesign(state.design);
    } catch (e) {
      problems.push((e as Error).message);
      base = shippedDesign(DEFAULT_STATE.design);
    }
    let workload = state.workload as WorkloadId;
    if (!WORKLOADS.includes(workload)) {
      problems.push(`unknown workload '${state.workload}' (known: ${WORKLOADS.join(', ')})`);
      workload = 'kernel';
    }
    this.depth = state.depth;
    this.exceptions = state.exceptions;
    ($('x-depth') as HTMLInputElement).value = String(this.depth);
    ($('x-exceptions') as HTMLInputElement).value = String(this.exceptions);

    let design = base;
    this.edited = null;
    let diagnostics: Diagnostic[] = [];
    if (state.source !== null && state.source !== base.text) {
      const c = checkEdited(base, state.source);
      if (c.ok) {
        design = c.design;
        this.edited = state.source;
      } else {
        diagnostics = c.errors;
        problems.push(
          `the edited listing in the link does not assemble (${c.errors.length} error(s), shown in the listing); running the shipped ${base.id}`,
        );
      }
    }
    this.designId = base.id;
    ($('design') as HTMLSelectElement).value = base.id;
    ($('workload') as HTMLSelectElement).value = workload;

    let userRsp: bigint | undefined;
    if (state.schedule !== '') {
      try {
        userRsp = parseSchedule(state.schedule).userRsp;
      } catch (e) {
        if (!(e instanceof ScheduleSyntaxError)) throw e;
        problems.push(`schedule: ${e.message}`);
        state = { ...state, schedule: '' };
      }
    }
    this.session = new Session({ design, workload, userRsp });
    if (state.schedule !== '') {
      const r = this.session.loadSchedule(state.schedule, state.step ?? undefined);
      if (!r.ok) problems.push(r.message);
    } else if (state.step !== null) {
      const r = this.session.goTo(state.step);
      if (!r.ok) problems.push(r.message);
    }
    this.showDesign(base, state.source ?? base.text, diagnostics);
    this.previousStacks = [];
    this.previousRegs = null;
    return problems;
  }

  private showDesign(base: Design, text: string, diagnostics: Diagnostic[]): void {
    const h = harnessSources();
    this.listing.setFiles(base.fileName, [
      { name: base.fileName, text },
      { name: 'harness/kernel.S', text: h.kernel },
      { name: 'harness/prelude.h', text: h.prelude },
    ]);
    const editing = text !== base.text;
    this.listing.setEditing(editing);
    this.listing.setDiagnostics(diagnostics);
    this.showDiagnostics(diagnostics);
    this.editButtons(editing);
    const s = summarizeDesign(base);
    $('design-summary').textContent = `${s.title}${s.reconstruction ? ' (reconstruction)' : ''} — ${s.summary}`;
    $('design-summary').title = `${s.author}, ${s.year}. Source: ${s.source}`;
    const labels = [...this.session.kernel.program.symbols.entries()]
      .filter(([name, sym]) => sym.section === '.text' && !/^\.L|^\d/.test(name))
      .map(([name]) => name)
      .sort();
    $('labels').innerHTML = labels.map((l) => `<option value="${esc(l)}"></option>`).join('');
  }

  // ---- wiring --------------------------------------------------------------------------------

  private wire(): void {
    const click = (id: string, f: () => void) => $(id).addEventListener('click', f);
    click('c-step', () => this.run('step'));
    click('c-back', () => this.run('back'));
    click('c-next', () => this.run('next-event'));
    click('c-restart', () => this.run('restart'));
    click('r-nmi', () => this.run('nmi'));
    click('r-bp', () => this.run('bp'));
    click('r-db', () => this.run('db'));
    click('r-pf', () => this.run('pf'));
    click('link', () => this.run('link'));
    click('help-button', () => this.run('help'));
    click('edit', () => this.run('edit'));
    click('apply', () => void this.applyEdit());
    click('revert', () => this.revertEdit());
    click('x-cancel', () => this.cancelExplore());
    click('tab-listing', () => this.tab('listing'));
    click('tab-explore', () => this.tab('explore'));
    $('run-to').addEventListener('submit', (e) => {
      e.preventDefault();
      const label = ($('run-to-label') as HTMLInputElement).value.trim();
      if (label === '') {
        this.say('run to: type a label first (the list offers the listing’s labels)', 'bad');
        return;
      }
      this.act(() => this.session.runTo(label));
      ($('run-to-label') as HTMLInputElement).blur();
    });
    $('explore-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.explore(false);
    });
    $('design').addEventListener('change', () => {
      const id = ($('design') as HTMLSelectElement).value;
      this.say(...this.reopen({ design: id, source: null, schedule: '', step: null }));
    });
    $('workload').addEventListener('change', () => {
      const w = ($('workload') as HTMLSelectElement).value;
      // The schedule belongs to the workload's run: a new workload starts with none.
      this.say(...this.reopen({ workload: w, schedule: '', step: null, source: this.edited }));
    });
    ($('all-stacks') as HTMLInputElement).addEventListener('change', () => this.render());
    document.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('hashchange', () => void this.onHashChange());
    // An example opens through the fragment (hashchange); close its menu.
    document.querySelectorAll('.examples a').forEach((a) =>
      a.addEventListener('click', () => {
        (a.closest('details') as HTMLDetailsElement).removeAttribute('open');
        this.opening = `${a.textContent ?? ''}. Step back and forth (← →) to watch it happen.`;
      }),
    );
  }

  /** While the user reads: start the explorer's worker and assemble the design there. */
  private warmSoon(): void {
    window.setTimeout(() => this.explorer.warm({ kind: 'warm', design: this.designRef() }), 300);
  }

  private reopen(change: Partial<PageState>): [string, 'info' | 'bad'] {
    const problems = this.open({ ...this.pageState(), ...change });
    this.render();
    this.warmSoon();
    return problems.length > 0
      ? [problems.join(' · '), 'bad']
      : [`${this.session.design.title}, ${this.session.workload} workload`, 'info'];
  }

  private async onHashChange(): Promise<void> {
    if (location.hash === this.lastHash) return;
    const { state, problems } = await readFragment(location.hash);
    const more = this.open(state);
    this.render();
    const all = [...problems, ...more];
    const opened = this.opening ?? 'opened the linked moment';
    this.opening = null;
    this.say(all.length > 0 ? all.join(' · ') : opened, all.length > 0 ? 'bad' : 'info');
  }

  private onKey(e: KeyboardEvent): void {
    const t = e.target as HTMLElement | null;
    const typing =
      t !== null &&
      (t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
    if (typing) {
      if (e.key === 'Escape') {
        if (this.listing.isEditing && t?.closest('.cm-editor')) (document.activeElement as HTMLElement | null)?.blur();
        else t?.blur();
      }
      return;
    }
    if (($('help') as HTMLDialogElement).open && e.key !== 'Escape') return;
    const c = commandFor(e);
    if (c === null) return;
    e.preventDefault();
    this.run(c, e.timeStamp);
  }

  /** Carry out a command (a button or a key). `pressedAt` is the key event's time, for the latency figure. */
  private run(c: Command, pressedAt?: number): void {
    switch (c) {
      case 'step':
        return this.act(() => this.session.stepForward(), pressedAt);
      case 'back':
        return this.act(() => this.session.stepBack(), pressedAt);
      case 'next-event':
        return this.act(() => this.session.runToNextEvent(), pressedAt);
      case 'restart':
        return this.act(() => this.session.goTo(0), pressedAt);
      case 'nmi':
      case 'bp':
      case 'db':
      case 'pf':
        return this.act(() => this.session.raise(c as ScheduleEventKind), pressedAt);
      case 'run-to': {
        const input = $('run-to-label') as HTMLInputElement;
        input.focus();
        input.select();
        return;
      }
      case 'explore':
        this.tab('explore');
        void this.explore(false);
        return;
      case 'cancel':
        if (($('help') as HTMLDialogElement).open) ($('help') as HTMLDialogElement).close();
        else this.cancelExplore();
        return;
      case 'edit':
        this.tab('listing');
        this.listing.setEditing(true);
        this.editButtons(true);
        return;
      case 'link':
        void this.copyLink();
        return;
      case 'help':
        ($('help') as HTMLDialogElement).showModal();
        return;
    }
  }

  /** Do something to the session, say how it went, redraw. */
  private act(f: () => { ok: boolean; message: string }, pressedAt?: number): void {
    let r: { ok: boolean; message: string };
    try {
      r = f();
    } catch (e) {
      r = { ok: false, message: `internal error: ${(e as Error).message}` };
    }
    this.render();
    this.say(r.message, r.ok ? 'info' : 'bad');
    if (pressedAt !== undefined) {
      const keep = (list: number[], ms: number) => {
        list.push(ms);
        if (list.length > 1000) list.shift();
      };
      keep(this.probe.latencies, performance.now() - pressedAt);
      // After the next frame is produced: a message posted from requestAnimationFrame runs after it.
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => keep(this.probe.frameLatencies, performance.now() - pressedAt);
        ch.port2.postMessage(null);
      });
    }
  }

  private say(text: string, kind: 'info' | 'bad' = 'info'): void {
    const m = $('message');
    m.textContent = text;
    m.className = `message ${kind}`;
  }

  private tab(which: 'listing' | 'explore'): void {
    $('panel-listing').hidden = which !== 'listing';
    $('panel-explore').hidden = which !== 'explore';
    $('tab-listing').setAttribute('aria-selected', String(which === 'listing'));
    $('tab-explore').setAttribute('aria-selected', String(which === 'explore'));
  }

  // ---- drawing -------------------------------------------------------------------------------

  private render(): void {
    const s = this.session;
    // The listing first: CodeMirror reads layout as it updates, which costs little before the
    // other views are rewritten and a whole-page layout after.
    const insn = s.machine.instructionAt();
    this.listing.follow(insn ? insn.loc.file : null, insn ? insn.loc.line : null);
    const all = ($('all-stacks') as HTMLInputElement).checked;
    const stacks = stacksView(s, this.previousStacks, all);
    $('stacks').innerHTML = stacks.html;
    $('hidden-stacks').textContent = stacks.hidden.length > 0 ? `not in use: ${stacks.hidden.join(', ')}` : '';
    this.previousStacks = stacks.diagrams;
    const regs = registersView(s, this.previousRegs);
    $('registers').innerHTML = regs.html;
    this.previousRegs = regs.values;
    $('status').innerHTML = statusHtml(statusItems(s));
    const events = $('events');
    events.innerHTML = eventsView(s);
    // The newest event in view, at the next frame (reading scrollHeight now would force a layout).
    requestAnimationFrame(() => (events.scrollTop = events.scrollHeight));
    this.renderSchedule();
    this.renderRaise();
    this.probe.renders++;
    this.scheduleUrl();
    this.scheduleTimeline();
  }

  private renderSchedule(): void {
    const s = this.session;
    const chips = s.schedule.map((e, i) => {
      const done = i < s.eventsApplied;
      const name = e.kind === 'nmi' ? 'NMI' : `#${e.kind.toUpperCase()}`;
      return `<button type="button" class="chip${done ? ' done' : ''}" data-step="${e.step}" title="go to step ${e.step} (${esc(s.kernel.where(e.at))})">${name}@${e.step}</button>`;
    });
    const later = s.schedule.length - s.eventsApplied;
    const drop =
      later > 0 ? ` <button type="button" class="chip drop" id="drop-later">drop ${later} later</button>` : '';
    // The same run in the CLI (for an edited listing, the schedule alone: the CLI needs the file).
    const cli =
      s.schedule.length === 0
        ? '<span class="muted">Schedule: no events yet.</span>'
        : this.edited === null
          ? `<code class="cli" title="the same run in the CLI">nmi-lab replay ${esc(this.designId)} --workload ${s.workload} --schedule '${esc(s.scheduleText())}'</code>`
          : `<code class="cli" title="the schedule, for nmi-lab replay --source">'${esc(s.scheduleText())}'</code>`;
    const el = $('schedule');
    el.innerHTML = `${chips.length > 0 ? '<span class="muted">Schedule:</span> ' : ''}${chips.join('')}${drop} ${cli}`;
    el.querySelectorAll<HTMLButtonElement>('button.chip[data-step]').forEach((b) =>
      b.addEventListener('click', () => this.act(() => this.session.goTo(Number(b.dataset.step)))),
    );
    el.querySelector('#drop-later')?.addEventListener('click', () =>
      this.act(() => {
        const n = this.session.dropLaterEvents();
        return { ok: true, message: `dropped ${n} later event(s)` };
      }),
    );
  }

  private renderRaise(): void {
    for (const kind of ['bp', 'db', 'pf'] as const) {
      const b = $(`r-${kind}`) as HTMLButtonElement;
      const why = this.session.cannotRaise(kind);
      b.classList.toggle('unavailable', why !== null);
      b.setAttribute('aria-disabled', String(why !== null));
      const what = SHORTCUTS.find((x) => x.command === kind)?.what ?? '';
      b.title = why ?? `${what} (${keysText(kind)})`;
    }
  }

  private scheduleTimeline(): void {
    window.clearTimeout(this.timelineTimer);
    this.timelineTimer = window.setTimeout(() => void this.drawTimeline(), 250);
  }

  /** The timeline of the run so far, recorded in the background worker and drawn with plotly. */
  private async drawTimeline(): Promise<void> {
    const s = this.session;
    const to = s.step;
    const from = Math.max(0, to - TIMELINE_WINDOW);
    const note = $('timeline-note');
    if (to === 0) {
      $('timeline').innerHTML = '<p class="empty">Step or run: the timeline shows the run from the steady state.</p>';
      note.textContent = '';
      return;
    }
    let reply: ExplorerReply;
    try {
      reply = await this.background.latest({
        kind: 'timeline',
        design: this.designRef(),
        workload: s.workload,
        userRsp: s.userRsp ?? null,
        events: [...s.schedule],
        from,
        to,
      });
    } catch (e) {
      if (e instanceof Cancelled) return;
      note.textContent = `(${(e as Error).message})`;
      return;
    }
    if (reply.kind !== 'timeline') {
      note.textContent = reply.kind === 'error' ? `(${reply.message})` : '';
      return;
    }
    note.textContent = from > 0 ? `(the last ${TIMELINE_WINDOW} steps: ${from}–${to})` : `(steps 0–${to})`;
    await drawChart($('timeline'), reply.chart);
    this.probe.timelines++;
  }

  // ---- the URL -------------------------------------------------------------------------------

  private lastHash = '';
  /** What an example link opens, said once it is open. */
  private opening: string | null = null;

  private pageState(): PageState {
    const s = this.session;
    return {
      design: this.designId,
      workload: s.workload,
      schedule: s.scheduleText(),
      step: s.step,
      source: this.edited,
      depth: this.depth,
      exceptions: this.exceptions,
    };
  }

  private scheduleUrl(): void {
    window.clearTimeout(this.urlTimer);
    // Once the user pauses: replaceState costs a few milliseconds, too much for every key press.
    this.urlTimer = window.setTimeout(() => void this.writeUrl(), 120);
  }

  private async writeUrl(): Promise<string> {
    const state = this.pageState();
    let src: string | null = null;
    if (state.source !== null) {
      if (this.compressed === null || this.compressed.text !== state.source)
        this.compressed = { text: state.source, value: await compressSource(state.source) };
      src = this.compressed.value;
    }
    const hash = writeFragment(state, src);
    if (hash !== location.hash) {
      this.lastHash = hash;
      history.replaceState(null, '', hash);
    }
    return `${location.origin}${location.pathname}${hash}`;
  }

  private async copyLink(): Promise<void> {
    const url = await this.writeUrl();
    try {
      await navigator.clipboard.writeText(url);
      this.say('link copied: it opens this design, workload, schedule and step', 'info');
    } catch {
      this.say(`copy this link: ${url}`, 'info');
    }
  }

  // ---- editing -------------------------------------------------------------------------------

  private designRef(): DesignRef {
    return this.edited === null ? this.designId : { base: this.designId, text: this.edited };
  }

  private editButtons(editing: boolean): void {
    $('edit').hidden = editing;
    $('apply').hidden = !editing;
    $('revert').hidden = !editing;
    $('apply').title = 'assemble this listing and run it (Ctrl+Enter)';
  }

  private onEdited(text: string): void {
    window.clearTimeout(this.checkTimer);
    this.checkTimer = window.setTimeout(() => void this.check(text), 300);
  }

  /** Check the listing in the background worker; show its diagnostics inline. */
  private async check(text: string): Promise<boolean> {
    let reply: ExplorerReply;
    try {
      reply = await this.background.latest({ kind: 'check', base: this.designId, text });
    } catch (e) {
      if (e instanceof Cancelled) return false;
      this.say((e as Error).message, 'bad');
      return false;
    }
    if (reply.kind !== 'checked') {
      if (reply.kind === 'error') this.say(reply.message, 'bad');
      return false;
    }
    const shown = [...reply.errors, ...reply.warnings];
    this.listing.setDiagnostics(shown);
    this.showDiagnostics(shown);
    return reply.ok;
  }

  private showDiagnostics(diagnostics: readonly Diagnostic[]): void {
    const pre = $('diagnostics');
    pre.hidden = diagnostics.length === 0;
    pre.textContent = diagnostics.map(formatDiagnostic).join('\n');
    pre.classList.toggle(
      'has-errors',
      diagnostics.some((d) => d.severity === 'error'),
    );
  }

  /** Run the listing in the editor: assemble it here and start a session on it (step 0). */
  private async applyEdit(): Promise<void> {
    const text = this.listing.text;
    const base = shippedDesign(this.designId);
    if (text === base.text) {
      this.revertEdit();
      return;
    }
    const c = checkEdited(base, text);
    if (c.ok === false) {
      this.listing.setDiagnostics(c.errors);
      this.showDiagnostics(c.errors);
      this.say(`the listing does not assemble: ${c.errors.length} error(s), marked in the listing`, 'bad');
      return;
    }
    this.edited = text;
    this.session = new Session({ design: c.design, workload: this.session.workload });
    this.previousStacks = [];
    this.previousRegs = null;
    this.listing.setDiagnostics(c.warnings);
    this.showDiagnostics(c.warnings);
    this.render();
    this.warmSoon();
    this.say(`running your listing (${base.fileName}, edited) from step 0; Explore (X) judges it`, 'info');
  }

  private revertEdit(): void {
    this.say(...this.reopen({ source: null, schedule: '', step: null }));
  }

  private runToLine(file: string, line: number): void {
    const insn = this.session.kernel.program.instructions.find((i) => i.loc.file === file && i.loc.line === line);
    if (insn === undefined) {
      this.say(`${file}:${line} has no instruction to run to`, 'bad');
      return;
    }
    const name = this.session.machine.symbolize(insn.address) ?? hex(insn.address);
    this.act(() => this.session.runToAddress(insn.address, `${file.replace(/^harness\//, '')}:${line} (${name})`));
  }

  // ---- exploring -----------------------------------------------------------------------------

  private exploreBound(): { workload: WorkloadId | null; depth: number; exceptions: number } | string {
    const w = ($('x-workload') as HTMLSelectElement).value;
    const depth = Number(($('x-depth') as HTMLInputElement).value);
    const exceptions = Number(($('x-exceptions') as HTMLInputElement).value);
    if (!Number.isInteger(depth) || depth < 1) return 'depth: a whole number of NMIs, at least 1';
    if (!Number.isInteger(exceptions) || exceptions < 0) return 'exceptions: a whole number, 0 or more';
    this.depth = depth;
    this.exceptions = exceptions;
    return { workload: w === '' ? null : (w as WorkloadId), depth, exceptions };
  }

  private async explore(force: boolean): Promise<void> {
    const bound = this.exploreBound();
    if (typeof bound === 'string') {
      this.say(bound, 'bad');
      return;
    }
    const design = this.designRef();
    const results = $('x-results');
    results.innerHTML = '';
    this.exploring(true, 'starting the explorer');
    const t0 = performance.now();
    let reply: ExplorerReply;
    try {
      reply = await this.explorer.request({ kind: 'explore', design, ...bound, force }, (p) =>
        this.progress(p.phase, p.done, p.total),
      );
    } catch (e) {
      this.exploring(false);
      if (e instanceof Cancelled) results.innerHTML = '<p class="muted">Cancelled.</p>';
      else results.innerHTML = `<p class="bad">${esc((e as Error).message)}</p>`;
      return;
    }
    this.exploring(false);
    const ms = performance.now() - t0;
    if (reply.kind === 'explored') {
      this.probe.explored++;
      this.probe.reports = reply.reports;
      this.probe.exploreMs = ms;
      this.showReports(design, reply.reports, ms);
    } else if (reply.kind === 'refused') {
      // The CLI's message names its flags after the ';': the page offers buttons instead.
      results.innerHTML =
        `<p class="bad">${esc(reply.message.split(';')[0])}.</p>` +
        '<p>Lower the depth or the exceptions, or:</p>' +
        '<p><button type="button" id="x-force">Explore anyway (cancel with Esc)</button> ' +
        '<button type="button" id="x-sample">Sample 2,000 schedules per workload</button></p>';
      $('x-force').addEventListener('click', () => void this.explore(true));
      $('x-sample').addEventListener('click', () => void this.sample(2000));
    } else if (reply.kind === 'error') {
      results.innerHTML = `<p class="bad">${esc(reply.message)}</p>`;
    }
    this.scheduleUrl();
  }

  private async sample(samples: number): Promise<void> {
    const bound = this.exploreBound();
    if (typeof bound === 'string') return;
    const design = this.designRef();
    this.exploring(true, `sampling ${samples} schedules`);
    let reply: ExplorerReply;
    try {
      reply = await this.explorer.request({ kind: 'sample', design, ...bound, samples, seed: 1 });
    } catch (e) {
      this.exploring(false);
      $('x-results').innerHTML = e instanceof Cancelled ? '<p class="muted">Cancelled.</p>' : esc((e as Error).message);
      return;
    }
    this.exploring(false);
    if (reply.kind === 'sampled') this.showReports(design, reply.reports, null);
    else if (reply.kind === 'error') $('x-results').innerHTML = `<p class="bad">${esc(reply.message)}</p>`;
  }

  private cancelExplore(): void {
    if (!this.explorer.busy) return;
    this.explorer.cancel();
    this.say('exploration cancelled', 'info');
  }

  private exploring(on: boolean, phase = ''): void {
    ($('x-run') as HTMLButtonElement).disabled = on;
    ($('x-cancel') as HTMLButtonElement).disabled = !on;
    $('x-progress').hidden = !on;
    if (on) this.progress(phase, 0, 0);
  }

  private progress(phase: string, done: number, total: number): void {
    const bar = $('x-bar') as HTMLProgressElement;
    if (total > 0) {
      bar.max = total;
      bar.value = done;
    } else bar.removeAttribute('value');
    $('x-phase').textContent = total > 0 ? `${phase}: ${done} of ${total} shares` : phase;
  }

  private showReports(design: DesignRef, reports: (WorkloadReport | SampleReport)[], ms: number | null): void {
    const results = $('x-results');
    const name = typeof design === 'string' ? design : `${design.base} (edited)`;
    const head =
      ms !== null
        ? `<p class="muted">${esc(name)}, depth ${reports[0]?.depth}, exceptions ${reports[0]?.exceptions}: ${(ms / 1000).toFixed(2)} s in this browser.</p>`
        : `<p class="muted">${esc(name)}: sampled (finds violations, proves nothing).</p>`;
    const blocks = reports.map((r, ri) => {
      const counts =
        'mode' in r
          ? `${r.distinct.toLocaleString('en-US')} distinct of ${r.samples.toLocaleString('en-US')} samples`
          : `${r.schedules.toLocaleString('en-US')} schedules, ${r.states.toLocaleString('en-US')} states, ${(r.ms / 1000).toFixed(2)} s`;
      const items = r.violations
        .map(
          (v, vi) =>
            `<li><button type="button" class="violation" data-r="${ri}" data-v="${vi}" title="replay this schedule in the stepper">` +
            `<b>${v.number}. ${esc(v.title)}</b><code>${esc(v.schedule)}</code><span>${esc(v.summary)}</span></button></li>`,
        )
        .join('');
      return `<div class="report ${r.verdict === 'clean' ? 'clean' : 'violated'}"><h3>${esc(r.workload)}: ${esc(r.verdict)}</h3><p class="muted">${counts}</p>${items ? `<ol class="violations">${items}</ol>` : ''}</div>`;
    });
    results.innerHTML = head + blocks.join('');
    results.querySelectorAll<HTMLButtonElement>('button.violation').forEach((b) =>
      b.addEventListener('click', () => {
        const r = reports[Number(b.dataset.r)];
        this.replay(design, r.workload, r.violations[Number(b.dataset.v)]);
      }),
    );
  }

  /** Load a violation's minimal schedule into the stepper, at its last event. */
  private replay(design: DesignRef, workload: WorkloadId, v: ViolationReport): void {
    const problems = this.open({
      ...this.pageState(),
      design: typeof design === 'string' ? design : design.base,
      source: typeof design === 'string' ? null : design.text,
      workload,
      schedule: v.scheduleSteps,
      step: null,
    });
    this.render();
    if (problems.length > 0) this.say(problems.join(' · '), 'bad');
    else
      this.say(
        `${v.number}. ${v.title}: ${v.summary.replace(/\.?$/, '.')} Replaying ${v.schedule}: at the last event now; step on (→, E) to watch it go wrong.`,
        'info',
      );
  }
}

const page = new Page();
void page.start().catch((e: Error) => {
  const m = document.getElementById('message');
  if (m) {
    m.textContent = `The playground could not start: ${e.message}`;
    m.className = 'message bad';
  }
});
