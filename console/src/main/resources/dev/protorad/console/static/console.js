// Keyboard shortcuts on the review worklist: "n" opens the first (oldest) item.
// Accept and correct use the buttons' access keys. Nothing is stored in the browser.
document.addEventListener("keydown", function (event) {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) {
    return;
  }
  if (event.key === "n") {
    var first = document.querySelector("#worklist a.open");
    if (first) {
      first.click();
    }
  }
});
