// Fails when a TypeScript file casts (`x as T`, `<T>x`, `x!`) or names `any`: the tour must
// be typed by the generated client alone. `as const` is no cast and is allowed.
import { readFileSync } from "node:fs";
import ts from "typescript";

let found = 0;
for (const file of process.argv.slice(2)) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const report = (node, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart());
    console.error(`${file}:${line + 1}:${character + 1}: ${what}: ${node.getText()}`);
    found++;
  };
  const visit = (node) => {
    if (ts.isAsExpression(node) && !(ts.isTypeReferenceNode(node.type) && node.type.getText() === "const")) {
      report(node, "cast");
    } else if (ts.isTypeAssertionExpression(node)) {
      report(node, "cast");
    } else if (ts.isNonNullExpression(node)) {
      report(node, "non-null assertion");
    } else if (node.kind === ts.SyntaxKind.AnyKeyword) {
      report(node, "any");
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
process.exit(found === 0 ? 0 : 1);
