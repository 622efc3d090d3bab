import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCycles, GRAPH_END, GRAPH_START, readWorkspace, renderSection, withSection, type WorkspacePackage } from './graph';

const root = join(__dirname, '..', '..', '..');
const pkg = (name: string, dependencies: string[] = [], devDependencies: string[] = []): WorkspacePackage => ({
  folder: name,
  name: `@beedesk/${name}`,
  description: `owns ${name}`,
  dependencies: dependencies.map((d) => `@beedesk/${d}`),
  devDependencies: devDependencies.map((d) => `@beedesk/${d}`),
});

describe('package dependency graph', () => {
  const workspace = readWorkspace(root);

  it('README.md shows the current graph (regenerate with `npm run graph`)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(withSection(readme, renderSection(workspace))).toBe(readme);
  });

  it('has no dependency cycle, test dependencies included', () => {
    expect(findCycles(workspace)).toEqual([]);
  });

  it('keeps the platform and the knowledge library free of other beedesk packages', () => {
    const byName = new Map(workspace.map((p) => [p.name, p]));
    expect(byName.get('@beedesk/runtime')?.dependencies).toEqual([]);
    expect(byName.get('@beedesk/knowledge')?.dependencies).toEqual([]);
  });

  it('finds a cycle, through test dependencies too', () => {
    expect(findCycles([pkg('a', ['b']), pkg('b', ['c']), pkg('c')])).toEqual([]);
    expect(findCycles([pkg('a', ['b']), pkg('b', [], ['a'])])).toEqual([['@beedesk/a', '@beedesk/b', '@beedesk/a']]);
  });

  it('renders run-time edges solid, test-only edges dotted and one line per package', () => {
    const section = renderSection([pkg('session', ['runtime']), pkg('runtime'), pkg('gateway', [], ['session'])]);
    expect(section).toContain('  session --> runtime');
    expect(section).toContain('  gateway -.-> session');
    expect(section).toContain('| `@beedesk/runtime` | `runtime/` | owns runtime |');
  });

  it('replaces only the text between the markers, and refuses a README without them', () => {
    const readme = `intro\n${GRAPH_START}\nold graph\n${GRAPH_END}\noutro\n`;
    expect(withSection(readme, `${GRAPH_START}\nnew\n${GRAPH_END}`)).toBe(`intro\n${GRAPH_START}\nnew\n${GRAPH_END}\noutro\n`);
    expect(() => withSection('no markers', 'x')).toThrow(/lacks the markers/);
  });
});
