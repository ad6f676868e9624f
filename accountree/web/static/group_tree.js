/* The group hierarchy as an interactive ECharts tree, loaded level by level from the API. */
(function () {
  const esc = atChart.esc;
  function groupTree(el, groupId, initial) {
    const chart = echarts.init(el, null, {renderer: 'canvas'});
    window.addEventListener('resize', () => chart.resize());
    const byId = new Map();
    let focusId = null;

    function childCount(n) {  // direct children when loaded (shown + not shown), else unknown
      return n.loaded ? (n.children || []).length + (n.more_children || 0) : null;
    }
    function wrap(text, max) {  // full names on several lines rather than cut at the chart's edge
      const lines = [''];
      text.split(' ').forEach(word => {
        const line = lines[lines.length - 1];
        if (line && (line + ' ' + word).length > max) lines.push(word); else lines[lines.length - 1] = line ? line + ' ' + word : word;
      });
      return lines;
    }
    function label(n) {
      // a node with entities below shows its subtree's consolidated figure first, its own beside it
      const figures = [], shape = [];
      const below = n.descendants || 0;
      if (below > 0 && n.subtree_revenue_cy != null) {
        figures.push('group ' + atChart.money(n.subtree_revenue_cy));
        if (n.revenue_cy != null) figures.push('own ' + atChart.money(n.revenue_cy));
      } else if (n.revenue_cy !== undefined && n.revenue_cy !== null) figures.push(atChart.money(n.revenue_cy));
      if (n.grade) figures.push('grade ' + n.grade);
      if (n.is_joint_venture) shape.push('JV · shared');
      if (below > 0) {
        const kids = childCount(n);
        shape.push((kids != null ? `${kids} ${kids === 1 ? 'child' : 'children'} · ` : '') + `${below} below`);
      }
      const name = (n.name || n.account_id).replace(/[{}|]/g, ' ');
      const mark = below > 0 ? (n.loaded ? '▾ ' : '▸ ') : '';
      const style = n.account_id === focusId ? 'f' : 'n';
      const lines = wrap(mark + name, 34).map(l => `{${style}|${l}}`);
      const meta = [figures.join(' · '), shape.join(' · ')].filter(Boolean).map(l => `{m|${l}}`);
      return lines.concat(meta).join('\n');
    }
    function convert(n, depth = 0, openDepth = 1) {
      const color = atChart.statusColor(n.status || 'Unknown');
      const node = {
        name: n.name || n.account_id, id: n.account_id, raw: n,
        collapsed: depth >= openDepth || !(n.loaded && n.children.length),
        symbol: n.is_joint_venture ? 'diamond' : 'circle',
        symbolSize: n.is_joint_venture ? 14 : (n.account_id === groupId ? 16 : 10),
        itemStyle: {color, borderColor: n.is_joint_venture ? '#c99a2a' : color, borderWidth: n.is_joint_venture ? 2 : 1,
          borderType: n.is_joint_venture ? 'dashed' : 'solid'},
        label: {formatter: label(n)},
        children: (n.children || []).map(c => convert(c, depth + 1, openDepth)),
      };
      if (!n.loaded && (n.descendants || 0) > 0) {
        node.children = [{name: 'loading…', id: n.account_id + '::placeholder', placeholder: true,
          label: {formatter: '{m|loading…}'}, itemStyle: {color: '#c9d0dc'}}];
      }
      if (n.more_children) {
        node.children.push({name: `+ ${n.more_children} more`, id: n.account_id + '::more', more: n.account_id,
          symbol: 'roundRect', symbolSize: [10, 10], itemStyle: {color: '#e3e8f0'},
          label: {formatter: `{m|+ ${n.more_children} more entities — see the list}`}});
      }
      byId.set(node.id, node);
      return node;
    }
    let root = convert(initial);

    function visibleLeaves(node) {
      if (node.collapsed || !node.children || !node.children.length) return 1;
      return node.children.reduce((s, c) => s + visibleLeaves(c), 0);
    }
    function render() {
      const leaves = visibleLeaves(root);
      el.style.height = Math.max(360, Math.min(leaves * 52 + 60, 9000)) + 'px';  // three lines a node
      chart.resize();
      chart.setOption({
        textStyle: {fontFamily: 'inherit'},
        tooltip: {trigger: 'item', formatter: p => {
          const n = (p.data && p.data.raw) || null;
          if (!n) return esc(p.name);
          const group = (n.descendants || 0) > 0 && n.subtree_revenue_cy != null
            ? `<br>group (this entity and below): ${esc(n.subtree_group_status || '')} · revenue ${esc(atChart.money(n.subtree_revenue_cy))}` +
              (n.subtree_open_pipeline ? ` · pipeline ${esc(atChart.money(n.subtree_open_pipeline))}` : '') : '';
          return `<b>${esc(n.name)}</b><br>${esc(n.status || 'status unknown')}` +
            (n.revenue_cy != null ? ` · own revenue ${esc(atChart.money(n.revenue_cy))}` : '') + (n.grade ? ` · grade ${esc(n.grade)}` : '') + group +
            (n.relation ? `<br>${esc(n.relation)}${n.ownership_pct != null ? ' · ' + esc(n.ownership_pct) + ' %' : ''}` : '') +
            ((n.descendants || 0) > 0 ? `<br>${esc(n.descendants)} ${n.descendants === 1 ? 'entity' : 'entities'} below` : '') +
            (n.is_joint_venture ? '<br><b>Joint venture</b> — shared with another parent' : '') +
            '<br><span style="color:#6b7588">click: expand · double-click: open</span>';
        }},
        series: [{type: 'tree', data: [root], orient: 'LR', left: 30, right: 270, top: 20, bottom: 20,
          symbolSize: 10, roam: 'move', expandAndCollapse: true, initialTreeDepth: -1, animationDurationUpdate: 250,
          label: {position: 'right', verticalAlign: 'middle', align: 'left', fontSize: 12,
            rich: {n: {fontSize: 12, color: '#1c2434', fontWeight: 500, lineHeight: 17}, f: {fontSize: 12, color: '#fff', backgroundColor: '#2f5bea', padding: [2, 5], borderRadius: 4, fontWeight: 600, lineHeight: 19},
              m: {fontSize: 11, color: '#6b7588', lineHeight: 16}}},
          leaves: {label: {position: 'right', align: 'left'}},
          emphasis: {focus: 'ancestor'}, lineStyle: {color: '#cfd6e4', width: 1.2, curveness: 0.5}}],
      }, {replaceMerge: ['series']});
    }

    async function loadChildren(node) {
      const r = await fetch(`/api/v1/groups/${encodeURIComponent(groupId)}/tree?root=${encodeURIComponent(node.id)}&depth=1`,
        {headers: {Accept: 'application/json'}});
      if (!r.ok) return;
      const body = await r.json();
      const fresh = convert(body.root, 0, 1);
      node.children = fresh.children;
      node.collapsed = false;
      node.raw.loaded = true;
      node.raw.children = body.root.children || [];
      node.raw.more_children = body.root.more_children || 0;
      node.label = {formatter: label(node.raw)};  // now with its child count
      render();
    }

    function select(node) {
      const panel = document.getElementById('tree-selected');
      const n = node.raw;
      if (!panel || !n) return;
      const bits = [n.status ? `<span class="badge" style="background:${esc(atChart.statusColor(n.status))};color:#fff">${esc(n.status)}</span>` : '',
        (n.descendants || 0) > 0 && n.subtree_revenue_cy != null ? `group ${esc(atChart.money(n.subtree_revenue_cy))} CY` : '',
        n.revenue_cy != null ? `own ${esc(atChart.money(n.revenue_cy))} CY` : '', n.grade ? `grade ${esc(n.grade)}` : '',
        (n.descendants || 0) > 0 ? `${esc(n.descendants)} ${n.descendants === 1 ? 'entity' : 'entities'} below` : '', n.is_joint_venture ? '<span class="badge jv">JV · shared</span>' : ''];
      panel.innerHTML = `<b>${esc(n.name)}</b> ${bits.filter(Boolean).join(' · ')} ` +
        `<a class="btn small primary" id="open-account" href="/accounts/${encodeURIComponent(n.account_id)}">Open account 360 →</a>`;
    }

    chart.on('click', params => {
      const node = byId.get(params.data && params.data.id);
      if (!node) return;
      select(node);
      if (node.more) { window.location = `/accounts?group=${encodeURIComponent(groupId)}`; return; }
      if (node.children && node.children.length === 1 && node.children[0].placeholder) { loadChildren(node); return; }
      node.collapsed = !node.collapsed;
      render();
    });
    chart.on('dblclick', params => {
      const id = params.data && params.data.id;
      if (id && !id.includes('::')) window.location = '/accounts/' + encodeURIComponent(id);
    });

    function setAll(collapsed) {
      const walk = (n, depth) => { if (n.children && n.children.length && !n.children[0].placeholder) {
        n.collapsed = depth > 0 && collapsed; n.children.forEach(c => walk(c, depth + 1)); } };
      walk(root, 0); render();
    }

    async function focus(accountId) {
      const r = await fetch(`/api/v1/groups/${encodeURIComponent(groupId)}/tree?focus=${encodeURIComponent(accountId)}&depth=1`);
      if (!r.ok) return;
      const body = await r.json();
      focusId = accountId;
      byId.clear();
      root = convert(body.root, 0, 99);
      render();
    }
    function visibleIds() {
      const out = [];
      const walk = n => { out.push(n.id); if (!n.collapsed) (n.children || []).forEach(walk); };
      walk(root);
      return out.filter(id => !id.includes('::'));
    }
    function nodePosition(id) {  // page coordinates of a node, for tests and tours
      const data = chart.getModel().getSeriesByIndex(0).getData();
      for (let i = 0; i < data.count(); i++) {
        const raw = data.getRawDataItem(i);
        const el = data.getItemGraphicEl(i);
        if (raw && raw.id === id && el) {
          const [x, y] = el.transformCoordToGlobal(0, 0);
          const box = chart.getDom().getBoundingClientRect();
          return {x: box.left + window.scrollX + x, y: box.top + window.scrollY + y};
        }
      }
      return null;
    }
    render();
    return {chart, collapseAll: () => setAll(true), expandAll: () => setAll(false), focus, render, visibleIds, nodePosition};
  }

  function wireSearch(input, results, groupId, tree) {
    let timer = null;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q) { results.hidden = true; return; }
      timer = setTimeout(async () => {
        const r = await fetch(`/api/v1/accounts?group=${encodeURIComponent(groupId)}&q=${encodeURIComponent(q)}&page_size=8`);
        if (!r.ok) return;
        const body = await r.json();
        results.innerHTML = '';
        body.items.forEach(a => {
          const link = document.createElement('a');
          link.href = '#';
          link.textContent = `${a.name} · ${a.country || ''}`;
          link.addEventListener('click', e => { e.preventDefault(); results.hidden = true; tree.focus(a.account_id); });
          results.appendChild(link);
        });
        if (!body.items.length) results.innerHTML = '<a class="muted">No entity matches</a>';  // a constant
        results.hidden = false;
      }, 200);
    });
  }
  window.atGroupTree = {groupTree, wireSearch};
})();
