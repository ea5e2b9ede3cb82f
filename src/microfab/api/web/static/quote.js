// Quote page: re-quote as soon as a list or a checkbox changes (the form works without this:
// its button submits the same GET request). No framework, shipped in the package.
(function () {
  "use strict";
  const form = document.getElementById("quote-form");
  if (!form) return;
  form.addEventListener("change", function (event) {
    const field = event.target;
    if (field.tagName === "SELECT" || field.type === "checkbox") {
      form.classList.add("busy");
      form.requestSubmit();
    }
  });
})();
