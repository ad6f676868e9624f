/* accountree charts: thin helpers over the vendored Apache ECharts. */
(function () {
  const STATUS_COLORS = {
    'Customer': '#1f9d6b', 'Opportunity': '#2f6fe0', 'MQA': '#7a4fd6', 'Engaged': '#14a3b8',
    'Dormant': '#9aa3b2', 'Former customer': '#e0892a', 'Unknown': '#c9d0dc'
  };
  const GRADE_COLORS = {A: '#1f9d6b', B: '#58b98b', C: '#e8b43a', D: '#e58a3a', E: '#d9624d', F: '#b84040'};
  const PALETTE = ['#2f5bea', '#14a3b8', '#7a4fd6', '#1f9d6b', '#e8b43a', '#e0892a', '#d64545', '#9aa3b2'];
  const charts = [];
  window.addEventListener('resize', () => charts.forEach(c => c.resize()));

  // THE escaping helper: every data string (names, statuses, reasons…) that reaches HTML built in
  // JS (ECharts tooltips, innerHTML) goes through it. ECharts renders tooltip strings as HTML.
  function esc(t) {
    return String(t == null ? '' : t).replace(/[&<>"'`]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;'})[c]);
  }
  function money(v) {
    if (v === null || v === undefined) return '—';
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + ' bn€';
    if (a >= 1e6) return (v / 1e6).toFixed(1) + ' M€';
    if (a >= 1e3) return (v / 1e3).toFixed(0) + ' k€';
    return Math.round(v) + ' €';
  }
  function init(id) {
    const el = typeof id === 'string' ? document.getElementById(id) : id;
    if (!el) return null;
    const chart = echarts.init(el, null, {renderer: 'canvas'});
    charts.push(chart);
    return chart;
  }
  const base = {textStyle: {fontFamily: 'inherit'}, color: PALETTE, animationDuration: 300};

  const atChart = {
    esc, money,
    statusColor(s) {  // account statuses and group statuses ('customer group') share colours
      if (!s) return '#c9d0dc';
      const key = s.replace(/ group$/, '');
      return STATUS_COLORS[key] || STATUS_COLORS[key.charAt(0).toUpperCase() + key.slice(1)] || '#c9d0dc';
    }, gradeColor: g => GRADE_COLORS[g] || '#c9d0dc',
    donut(id, data, byStatus) {
      const c = init(id); if (!c) return;
      c.setOption({...base, tooltip: {trigger: 'item'},
        legend: {orient: 'vertical', right: 0, top: 'middle', icon: 'circle', textStyle: {fontSize: 12}},
        series: [{type: 'pie', radius: ['38%', '60%'], center: ['28%', '50%'], avoidLabelOverlap: true,
          label: {show: false}, itemStyle: {borderColor: '#fff', borderWidth: 2},
          data: data.map(d => byStatus ? {...d, itemStyle: {color: atChart.statusColor(d.name)}} : d)}]});
    },
    bars(id, categories, series, opts = {}) {
      const c = init(id); if (!c) return;
      // all zero (an account that never bought): say so, instead of an axis of "0 €, 1 €, 1 €"
      const empty = series.every(s => (s.data || []).every(v => !(v !== null && typeof v === 'object' ? v.value : v)));
      c.setOption({...base, tooltip: {trigger: 'axis', valueFormatter: opts.money ? money : undefined},
        legend: series.length > 1 ? {top: 0} : undefined,
        title: empty ? {text: opts.emptyText || 'Nothing yet', left: 'center', top: 'middle',
                        textStyle: {color: '#8a93a3', fontSize: 13, fontWeight: 'normal'}} : undefined,
        grid: {left: 8, right: 12, top: series.length > 1 ? 32 : 12, bottom: 8, containLabel: true},
        xAxis: {type: 'category', data: categories, axisTick: {show: false}, axisLabel: {interval: 0}},
        yAxis: {type: 'value', minInterval: opts.money ? 1 : undefined, max: empty ? 1 : undefined,
                axisLabel: {formatter: opts.money ? money : undefined, show: !empty}, splitLine: {lineStyle: {color: '#eef1f6'}}},
        series: series.map(s => ({type: 'bar', barMaxWidth: 38, itemStyle: {borderRadius: [4, 4, 0, 0]}, ...s}))});
    },
    whitespace(id, xs, ys, cells) {
      const c = init(id); if (!c) return;
      const STATES = ['whitespace', 'in pipeline', 'bought'];
      c.setOption({...base, tooltip: {formatter: p => `${esc(ys[p.value[1]])}<br>${esc(xs[p.value[0]])}: <b>${esc(STATES[p.value[2]])}</b>`},
        grid: {left: 8, right: 8, top: 40, bottom: 8, containLabel: true},
        xAxis: {type: 'category', data: xs, position: 'bottom', axisLabel: {rotate: 35, fontSize: 11, interval: 0}, axisTick: {show: false}},
        yAxis: {type: 'category', data: ys, inverse: true, axisLabel: {fontSize: 11, width: 200, overflow: 'truncate'}, axisTick: {show: false}},
        visualMap: {type: 'piecewise', orient: 'horizontal', left: 'center', top: 0, itemWidth: 14, itemHeight: 14,
          pieces: [{value: 0, label: 'whitespace (never bought)', color: '#fde7cf'}, {value: 1, label: 'open pipeline', color: '#9db7f5'},
            {value: 2, label: 'bought', color: '#1f9d6b'}]},
        series: [{type: 'heatmap', data: cells, itemStyle: {borderColor: '#fff', borderWidth: 2, borderRadius: 3}}]});
    },
    scatter(id, rows) {  // the key-account allocation matrix: effort across, 3-year potential up
      const c = init(id); if (!c) return;
      const TIER = {1: '#2f5bea', 2: '#14a3b8', 3: '#9aa3b2'};
      c.setOption({...base, legend: {top: 0}, grid: {left: 8, right: 20, top: 34, bottom: 8, containLabel: true},
        tooltip: {formatter: p => `<b>${esc(p.data.name)}</b><br>potential ${esc(money(p.data.value[1]))} · effort ${esc(p.data.value[0])}<br>${esc(p.data.quadrant || '')}`},
        xAxis: {name: 'effort', nameLocation: 'middle', nameGap: 24, min: 0, max: 1, splitLine: {lineStyle: {color: '#eef1f6'}}},
        yAxis: {name: '3-year potential', type: 'log', axisLabel: {formatter: money}, splitLine: {lineStyle: {color: '#eef1f6'}}},
        series: [1, 2, 3].map(t => ({type: 'scatter', name: 'KAM tier ' + t, symbolSize: 9, itemStyle: {color: TIER[t], opacity: 0.75},
          data: rows.filter(r => r.tier === t).map(r => ({name: r.name, value: [r.effort, r.potential_3y], quadrant: r.quadrant}))}))});
    },
    orgChart(id, roots) {
      const c = init(id); if (!c) return;
      const ROLE = {economic_buyer: '#1f9d6b', champion: '#2f5bea', influencer: '#7a4fd6', user: '#14a3b8',
        buyer: '#e8b43a', blocker: '#d64545', other: '#9aa3b2'};
      const conv = n => ({name: n.name, value: n.role, children: n.children.map(conv),
        label: {formatter: `{n|${n.name}}\n{t|${(n.title || '').slice(0, 28)}}\n{r|${(n.role || 'no role').replace('_', ' ')}}`},
        itemStyle: {color: ROLE[n.role] || '#c9d0dc', borderColor: ROLE[n.role] || '#c9d0dc'}});
      const data = roots.length === 1 ? conv(roots[0]) : {name: 'Account', children: roots.map(conv), label: {formatter: 'Account'}};
      c.setOption({...base, tooltip: {show: false}, series: [{type: 'tree', data: [data], orient: 'TB', top: 40, bottom: 90,
        left: 90, right: 90, symbol: 'circle', symbolSize: 9, expandAndCollapse: false, initialTreeDepth: -1, roam: true,
        label: {position: 'bottom', distance: 6, verticalAlign: 'top', align: 'center', backgroundColor: '#fff', borderColor: '#e3e8f0',
          borderWidth: 1, borderRadius: 6, padding: [6, 9], lineHeight: 16, rich: {n: {fontWeight: 600, fontSize: 12, color: '#1c2434', lineHeight: 17},
            t: {fontSize: 11, color: '#6b7588', lineHeight: 15}, r: {fontSize: 11, color: '#2a4db3', lineHeight: 15}}},
        lineStyle: {color: '#cfd6e4', curveness: 0.4}}]});
    },
  };
  window.atChart = atChart;
})();
