// The leaderboard's filters and sorting. It reads cell text and data-value attributes and
// only hides or reorders rows: it never writes HTML, so no card text can become markup.
(function () {
  "use strict";
  var table = document.getElementById("board");
  if (!table) { return; }
  var body = table.tBodies[0];
  var query = document.getElementById("q");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select.status-filter"));
  var count = document.getElementById("count");

  function cellValue(row, col) {
    var cell = row.cells[col];
    return cell ? (cell.getAttribute("data-value") || cell.textContent || "") : "";
  }

  function apply() {
    var words = (query.value || "").toLowerCase().trim();
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var ok = !words || row.textContent.toLowerCase().indexOf(words) !== -1;
      selects.forEach(function (sel) {
        if (ok && sel.value) { ok = cellValue(row, Number(sel.getAttribute("data-col"))) === sel.value; }
      });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + body.rows.length + " models shown";
  }

  function sortBy(th, col, numeric) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col), y = cellValue(b, col);
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var button = th.querySelector("button");
    if (button) {
      button.addEventListener("click", function () { sortBy(th, col, button.getAttribute("data-sort") === "num"); });
    }
  });
  query.addEventListener("input", apply);
  selects.forEach(function (sel) { sel.addEventListener("change", apply); });
  apply();
}());
