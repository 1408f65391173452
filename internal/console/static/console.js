// Confirmation dialogs: a link with data-dialog opens the <dialog> of that
// id instead of following the link (the link's page is the same form for
// browsers without script). A dialog's form marked data-from-link posts
// to the link's own address, so one dialog serves a table of such links.
document.addEventListener("click", function (ev) {
  var open = ev.target.closest("[data-dialog]");
  if (open) {
    var dlg = document.getElementById(open.getAttribute("data-dialog"));
    if (dlg && typeof dlg.showModal === "function") {
      ev.preventDefault();
      var form = dlg.querySelector("form");
      if (form && form.hasAttribute("data-from-link")) form.setAttribute("action", open.getAttribute("href"));
      var subject = dlg.querySelector("[data-subject-text]");
      if (subject) subject.textContent = open.getAttribute("data-subject") || "";
      dlg.showModal();
      var field = dlg.querySelector("textarea, input:not([type=hidden])");
      if (field) field.focus();
    }
    return;
  }
  var close = ev.target.closest("[data-close]");
  if (close) {
    var d = close.closest("dialog");
    if (d) d.close();
  }
});
