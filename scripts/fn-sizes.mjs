// Lines per function (including methods, arrows and function expressions) in src/**/*.ts, largest
// first: `node scripts/fn-sizes.mjs [dir] [--top N]`. Uses the TypeScript parser; a function's
// size is the number of lines from its first to its last, nested functions counted in their
// parents too (what you have to hold in your head to read it).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const dir = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'src';
const topArg = process.argv.indexOf('--top');
const top = topArg > 0 ? Number(process.argv[topArg + 1]) : 10;

function files(d) {
  return fs
    .readdirSync(d, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : []));
}

const out = [];
for (const file of files(dir)) {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const visit = (node, owner) => {
    let name = owner;
    if (
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node)
    ) {
      const n =
        node.name?.getText?.(sf) ??
        (ts.isConstructorDeclaration(node)
          ? 'constructor'
          : ts.isVariableDeclaration(node.parent)
            ? node.parent.name.getText(sf)
            : ts.isPropertyAssignment(node.parent)
              ? node.parent.name.getText(sf)
              : '(anonymous)');
      const cls = ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) ? `${node.parent.name?.getText(sf) ?? ''}.` : '';
      name = `${cls}${n}`;
      const a = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const b = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ name, file: path.relative(process.cwd(), file), line: a + 1, lines: b - a + 1 });
    }
    ts.forEachChild(node, (c) => visit(c, name));
  };
  visit(sf, '');
}
out.sort((x, y) => y.lines - x.lines);
const over = out.filter((f) => f.lines > 80).length;
console.log(`| lines | function | where |\n| ---: | --- | --- |`);
for (const f of out.slice(0, top)) console.log(`| ${f.lines} | ${f.name} | ${f.file}:${f.line} |`);
console.log(
  `\n${out.length} functions; ${over} over 80 lines; total source lines ${files(dir).reduce((s, f) => s + fs.readFileSync(f, 'utf8').split('\n').length, 0)}`,
);
