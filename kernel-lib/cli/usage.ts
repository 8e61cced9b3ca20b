// The usage line of each command, in one place: the help text (main.ts) shows them without
// loading the commands, and each command repeats its own in usage errors.
export const EXEC_USAGE = 'nmi-lab exec FILE.S [--entry LABEL] [--max-steps N] [--json]';
export const DESIGNS_USAGE = 'nmi-lab designs [--json]';
/** How a command that runs a design is told which (design-args.ts reads it). */
export const DESIGN_USAGE =
  'DESIGN | --source FILE.S | --entry-file ENTRY_64.S [--manifest FILE.json] [--do-nmi RELEASE]';
export const EXPLORE_USAGE = `nmi-lab explore ${DESIGN_USAGE} [--workload W] [--depth N] [--exceptions N] [--max-steps N] [--workers N] [--force] [--sample N [--seed S]] [--json]`;
export const REPLAY_USAGE = `nmi-lab replay ${DESIGN_USAGE} --schedule 'nmi@12,bp@nmi_point_early,...' [--workload W] [--max-steps N] [--stacks-at STEP,...] [--json]`;
export const GRADE_USAGE =
  'nmi-lab grade PATH... [--out DIR] [--jobs N] [--json] [--timeout SECONDS] [--isolation auto|bwrap|node]';
