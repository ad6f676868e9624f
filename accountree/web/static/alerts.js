/* Alerts page: "select all" for the bulk acknowledgement. */
(function () {
  const all = document.getElementById('select-all');
  if (!all) return;
  all.addEventListener('change', () => document.querySelectorAll('#alerts-table input[name=alert_id]')
    .forEach(box => { box.checked = all.checked; }));
})();
