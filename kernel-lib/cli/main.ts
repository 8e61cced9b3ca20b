// The `nmi-lab` command: a thin client of the library API.
// Each command's module is loaded when it runs, so that `nmi-lab designs` does not load the
// explorer and `nmi-lab exec` does not load the designs: start-up is most of a short command.
import { UsageError } from './args';
import { CliIo, processIo } from './io';
import { DESIGNS_USAGE, EXEC_USAGE, EXPLORE_USAGE, GRADE_USAGE, REPLAY_USAGE } from './usage';

const USAGE = `usage:
  ${EXEC_USAGE}
      assemble FILE.S, run it in kernel mode from LABEL (default _start) until hlt,
      the step budget or a shutdown, and print the final state.
      exit status: 0 halted, 1 budget or shutdown, 2 bad source or usage
  ${DESIGNS_USAGE}
      list the NMI entry designs (id, year, author, source; --json for all fields).
  ${EXPLORE_USAGE}
      judge a design over every NMI/exception schedule up to the depth: verdict, schedules,
      distinct states, time, and a minimal replayable schedule per violated invariant.
      --sample N checks N random schedules instead (for bounds too large to cover; not a proof).
      exit status: 0 clean, 1 violated, 2 bound too large (with an estimate) or usage
      DESIGN is a shipped id (nmi-lab designs); --source is a listing of your own, --entry-file a
      whole kernel entry_64.S (its NMI entry is taken out), --do-nmi 3.2|3.3|3.6|4.2 the release
      whose do_nmi runs around it (docs/own-kernel.md).
  ${REPLAY_USAGE}
      replay one schedule and print its step-through trace and verdict.
  ${GRADE_USAGE}
      grade course notebooks (files, folders, globs) against the checks and hidden tests, each
      in a sandbox, in parallel; print a score and a reason per exercise, and with more than
      one submission write a gradebook CSV and a feedback file per student (nmi-lab grade --help).
      exit status: 0 graded, 2 nothing to grade, or usage
`;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'exec':
        return (await import('./exec-command')).execCommand(rest, io);
      case 'grade':
        return await (await import('./grade-command')).gradeCommand(rest, io);
      case 'designs':
        return (await import('./designs-command')).designsCommand(rest, io);
      case 'explore':
        (await import('./explorer-tuning')).tuneForExploring();
        return await (await import('./explore-command')).exploreCommand(rest, io);
      case 'replay':
        return (await import('./replay-command')).replayCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`nmi-lab: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
