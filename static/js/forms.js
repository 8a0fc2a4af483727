/* Form helpers: API validation errors shown next to their fields. */

export function clearErrors(form) {
  form.querySelectorAll(".field-errors").forEach((n) => { n.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
}

export function showErrors(form, err) {
  const body = (err && err.body) || {};
  let shown = false;
  Object.keys(body).forEach((field) => {
    const box = form.querySelector('.field-errors[data-for="' + field + '"]');
    if (!box) return;
    const messages = Array.isArray(body[field]) ? body[field] : [String(body[field])];
    box.textContent = messages.join(" ");
    const input = form.querySelector('[name="' + field + '"]');
    if (input) input.setAttribute("aria-invalid", "true");
    shown = true;
  });
  if (!shown) {
    form.querySelector('.field-errors[data-for="non_field_errors"]').textContent =
      (err && err.message) || "Request failed.";
  }
  const first = form.querySelector("[aria-invalid]");
  if (first) first.focus();
}

export function fieldValue(form, name) { return form.elements[name].value.trim(); }

// An error goes away as soon as its field is edited.
export function clearErrorsOnInput(form) {
  form.addEventListener("input", (event) => {
    const name = event.target.name;
    const box = name && form.querySelector('.field-errors[data-for="' + name + '"]');
    if (box) box.textContent = "";
    if (name) event.target.removeAttribute("aria-invalid");
  });
}
