// `tg completion bash|zsh|fish`: completion scripts generated from the command table.
import type { CommandUnknownOpts as Command } from '@commander-js/extra-typings';
import type { Context } from '../context';
import { usageError } from '../errors';

function table(program: Command) {
  const globals = program.options.map((o) => o.long).filter(Boolean) as string[];
  const cmds = program.commands.map((c) => ({
    name: c.name(),
    desc: c.description().split('.')[0].replace(/'/g, ''),
    opts: c.options.map((o) => o.long).filter(Boolean) as string[],
  }));
  return { globals, cmds };
}

export function completionScript(shell: string, program: Command): string {
  const { globals, cmds } = table(program);
  const names = cmds.map((c) => c.name).join(' ');
  if (shell === 'bash') {
    const cases = cmds.map((c) => `    ${c.name}) opts="${[...c.opts, ...globals].join(' ')}" ;;`).join('\n');
    return `# bash completion for tg
_tg() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names} ${globals.join(' ')}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="${globals.join(' ')}" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _tg tg
`;
  }
  if (shell === 'zsh') {
    const subs = cmds.map((c) => `'${c.name}:${c.desc}'`).join(' ');
    const cases = cmds.map((c) => `    ${c.name}) _arguments ${[...c.opts, ...globals].map((o) => `'${o}[]'`).join(' ')} '*:file:_files' ;;`).join('\n');
    return `#compdef tg
_tg() {
  local -a subcmds
  subcmds=(${subs})
  if (( CURRENT == 2 )); then
    _describe 'command' subcmds
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _tg tg
`;
  }
  if (shell === 'fish') {
    const lines = ['# fish completion for tg', 'complete -c tg -f'];
    for (const c of cmds) lines.push(`complete -c tg -n '__fish_use_subcommand' -a '${c.name}' -d '${c.desc}'`);
    for (const c of cmds) for (const o of c.opts) lines.push(`complete -c tg -n '__fish_seen_subcommand_from ${c.name}' -l '${o.slice(2)}'`);
    for (const o of globals) lines.push(`complete -c tg -l '${o.slice(2)}'`);
    return lines.join('\n') + '\n';
  }
  throw usageError(`unknown shell "${shell}"`, 'Use bash, zsh or fish.');
}

export async function completion(shell: string, ctx: Context, program: Command): Promise<number> {
  ctx.io.stdout.write(completionScript(shell, program));
  return 0;
}
