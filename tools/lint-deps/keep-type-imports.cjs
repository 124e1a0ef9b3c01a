// A Babel plugin for dependency-cruiser only: TypeScript's `import type` and
// `export type … from` vanish when Babel strips types, and with them the arrows they
// draw between layers. Turning each into a bare `import 'module'` keeps the arrow. It
// runs on entering the program, before the TypeScript plugin elides type imports there.
module.exports = function keepTypeImports({ types: t }) {
  const typeOnly = (node) =>
    node.importKind === 'type' ||
    node.exportKind === 'type' ||
    (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
  return {
    visitor: {
      Program: {
        enter(program) {
          for (const statement of program.get('body')) {
            const { node } = statement;
            if ((statement.isImportDeclaration() || statement.isExportNamedDeclaration()) && node.source && typeOnly(node)) {
              statement.replaceWith(t.importDeclaration([], t.stringLiteral(node.source.value)));
            }
          }
        },
      },
    },
  };
};
