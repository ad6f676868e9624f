/* Page bootstrap: the charts and widgets of a page, described by data, never by inline script.

The server renders `<script type="application/json" id="page-data">` (JSON, not executed: the
Content-Security-Policy allows scripts from /static only) and this file draws what it lists:
  {"charts": [{"kind": "donut"|"bars"|"whitespace"|"scatter"|"org", "el": "chart-id", ...}],
   "tree": {"el": "group-tree", "group_id": "...", "root": {...}, "focus": "..."}}
*/
(function () {
  function pick(rows, key) { return (rows || []).map(r => r[key]); }
  const KINDS = {
    donut: c => atChart.donut(c.el, (c.rows || []).map(r => ({name: r[c.name] || 'Unknown', value: r[c.value]})), !!c.by_status),
    bars: c => atChart.bars(c.el, c.categories || pick(c.rows, c.x), (c.series || []).map(s => ({
      name: s.name,
      data: s.data || (c.rows || []).map(r => c.grade_colors
        ? {value: r[s.key], itemStyle: {color: atChart.gradeColor(r[c.x])}} : r[s.key]),
    })), {money: !!c.money, emptyText: c.empty_text}),
    whitespace: c => atChart.whitespace(c.el, c.x, c.y, c.cells),
    scatter: c => atChart.scatter(c.el, c.rows || []),
    org: c => atChart.orgChart(c.el, c.roots || []),
  };

  function start() {
    const block = document.getElementById('page-data');
    if (!block) return;
    const data = JSON.parse(block.textContent || '{}');
    (data.charts || []).forEach(c => { if (KINDS[c.kind] && document.getElementById(c.el)) KINDS[c.kind](c); });
    if (data.tree && window.atGroupTree) {
      const t = data.tree;
      const tree = atGroupTree.groupTree(document.getElementById(t.el), t.group_id, t.root);
      atGroupTree.wireSearch(document.getElementById('tree-search'), document.getElementById('tree-results'), t.group_id, tree);
      const expand = document.getElementById('tree-expand'), collapse = document.getElementById('tree-collapse');
      if (expand) expand.addEventListener('click', tree.expandAll);
      if (collapse) collapse.addEventListener('click', tree.collapseAll);
      window.groupTree = tree;
      if (t.focus) tree.focus(t.focus);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
