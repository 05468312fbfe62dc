// Filters apply as soon as a choice changes (the button stays for keyboards and browsers without scripts).
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.auto")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => form.submit());
    }
  }
});
