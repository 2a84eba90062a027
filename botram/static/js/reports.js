// Reports: the "Cetak A4" button (hidden without JavaScript; Ctrl+P prints the same page).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll(".js-print")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
