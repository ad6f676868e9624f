/* Every `table.data`: click a header to sort (again to reverse), "CSV" downloads the rows shown.

A cell sorts on its `data-sort` attribute when it has one (exact figures behind "3.8 M€"), else on
its text read as a number when it is one ("1 234", "3.8 M€", "42 %"), else as text. The CSV has
the headers and cells as displayed; a cell starting with = + - @ tab or CR is prefixed with ' so a
spreadsheet does not run it as a formula.
*/
(function () {
  const SCALE = {k: 1e3, M: 1e6, bn: 1e9};
  function cellValue(td) {
    if (!td) return '';
    if (td.dataset && td.dataset.sort !== undefined) {
      const n = parseFloat(td.dataset.sort);
      return isNaN(n) ? td.dataset.sort.toLowerCase() : n;
    }
    const t = td.textContent.trim();
    const m = t.replace(/[\s\u202f\u00a0]/g, '').match(/^([-+]?\d+(?:[.,]\d+)?)(k|M|bn)?(€|%|\$|£)?$/);
    if (m) return parseFloat(m[1].replace(',', '.')) * (SCALE[m[2]] || 1);
    if (t === '—' || t === '') return null;
    return t.toLowerCase();
  }
  function compare(a, b) {
    if (a === b) return 0;
    if (a === null) return 1;  // empty cells last, whatever the direction
    if (b === null) return -1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a).localeCompare(String(b));
  }
  function sortBy(table, index, th) {
    const body = table.tBodies[0];
    if (!body) return;
    const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    table.querySelectorAll('th[aria-sort]').forEach(h => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    const rows = Array.from(body.rows).filter(r => r.cells.length > index);
    rows.sort((r1, r2) => {
      const a = cellValue(r1.cells[index]), b = cellValue(r2.cells[index]);
      if (a === null || b === null) return compare(a, b);
      return dir * compare(a, b);
    });
    rows.forEach(r => body.appendChild(r));
  }
  function csvCell(text) {
    let t = text.replace(/\s+/g, ' ').trim();
    if (/^[=+\-@\t\r]/.test(t)) t = "'" + t;
    return /[",;\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }
  function toCsv(table) {
    return Array.from(table.rows).filter(r => !r.querySelector('.empty'))
      .map(r => Array.from(r.cells).map(c => csvCell(c.textContent)).join(',')).join('\r\n') + '\r\n';
  }
  function download(table) {
    const name = (table.dataset.name || document.title.split('·')[0].trim() || 'table')
      .toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') + '.csv';
    const blob = new Blob(['\ufeff' + toCsv(table)], {type: 'text/csv;charset=utf-8'});
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function wire(table) {
    if (table.dataset.wired) return;
    table.dataset.wired = '1';
    const head = table.tHead && table.tHead.rows[0];
    if (head) Array.from(head.cells).forEach((th, i) => {
      if (th.classList.contains('nosort')) return;
      th.classList.add('sortable');
      th.tabIndex = 0;
      th.title = th.title || 'Sort';
      th.addEventListener('click', () => sortBy(table, i, th));
      th.addEventListener('keydown', e => { if (e.key === 'Enter') sortBy(table, i, th); });
    });
    const bar = document.createElement('div');
    bar.className = 'table-tools';
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'btn small csv';
    btn.textContent = 'CSV';
    btn.title = 'Download these rows as CSV';
    btn.addEventListener('click', () => download(table));
    bar.appendChild(btn);
    const anchor = table.parentElement && table.parentElement.classList.contains('scroll') ? table.parentElement : table;
    anchor.parentElement.insertBefore(bar, anchor);
  }
  function start() { document.querySelectorAll('table.data').forEach(wire); }
  window.atTables = {wire, start, toCsv};
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
  document.addEventListener('htmx:afterSwap', start);
})();
