/* CSV import: a dry run previews every entry (new or already in the ledger),
 * skipped rows and warnings; a refused file shows its row and column. */
import { ApiError, upload } from "./api.js";
import { $, el } from "./dom.js";

function table(headers, rows) {
  const t = el("table", "holdings-table import-preview");
  const head = el("tr");
  headers.forEach((h) => head.appendChild(el("th", null, h)));
  const thead = el("thead");
  thead.appendChild(head);
  t.appendChild(thead);
  const tbody = el("tbody");
  rows.forEach((cells) => {
    const tr = el("tr");
    cells.forEach((c) => tr.appendChild(el("td", null, c === null || c === undefined ? "—" : String(c))));
    tbody.appendChild(tr);
  });
  t.appendChild(tbody);
  return t;
}

export class ImportPanel {
  constructor({ url, onImported }) {
    this.url = url;
    this.onImported = onImported;
    this.form = $("import-form");
    this.result = $("import-result");
    this.confirm = $("import-confirm");
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(true); });
    this.confirm.addEventListener("click", () => this.send(false));
    this.form.elements.file.addEventListener("change", () => { this.confirm.disabled = true; });
  }

  async send(dryRun) {
    const file = this.form.elements.file.files[0];
    this.result.textContent = "";
    if (!file) { this.error("Choose a CSV file first."); return; }
    const data = new FormData();
    data.append("file", file);
    data.append("dry_run", dryRun ? "true" : "false");
    try {
      const summary = await upload(this.url, data);
      this.show(summary);
      this.confirm.disabled = !dryRun || summary.created === 0;
      if (!dryRun) await this.onImported();
    } catch (err) {
      this.confirm.disabled = true;
      this.refused(err);
    }
  }

  error(message) {
    this.result.appendChild(el("p", "import-error", message));
  }

  refused(err) {
    const body = err instanceof ApiError ? err.body : {};
    const messages = body.file || [err.message || String(err)];
    this.error("Nothing was imported: " + [].concat(messages).join(" "));
    if (body.errors && body.errors.length) {
      this.result.appendChild(table(["Row", "Column", "Problem"],
        body.errors.map((e) => [e.row, e.column, e.message])));
    }
  }

  show(s) {
    const verb = s.dry_run ? "would add" : "added";
    this.result.appendChild(el("p", "import-summary",
      `${s.format} file: ${s.entries} entries; ${verb} ${s.created}, ` +
      `${s.duplicates} already in your ledger, ${s.skipped.length} rows skipped.`));
    if (s.skipped.length) {
      this.result.appendChild(el("h3", null, "Skipped rows"));
      this.result.appendChild(table(["Row", "Reason"], s.skipped.map((r) => [r.row, r.reason])));
    }
    if (s.warnings.length) {
      this.result.appendChild(el("h3", null, "Warnings"));
      this.result.appendChild(table(["Row", "Warning"], s.warnings.map((r) => [r.row, r.message])));
    }
    if (s.preview.length) {
      this.result.appendChild(table(
        ["Row", "Status", "Date", "Kind", "Symbol", "Amount", "Price", "Fee", "Total"],
        s.preview.map((p) => [p.row, p.status, p.executed_at, p.kind, p.symbol,
          p.amount, p.price, p.fee, p.total]),
      ));
    }
  }
}
