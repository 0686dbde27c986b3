// The course book. `data-math-ready` on <html> says MathJax has typeset the page (the browser
// test and the PDF printer wait for it). On screen a display equation wider than its column
// scrolls inside it (book.css); for print, bookFitMath(true) draws it smaller until it fits.
(function () {
  function fit(print) {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (box) {
      box.style.fontSize = "";
      if (!print) return;
      var column = box.parentElement.clientWidth, math = box.firstElementChild;
      if (!math || !column) return;
      var wide = math.getBoundingClientRect().width;
      if (wide > column) box.style.fontSize = Math.floor(100 * column / wide) - 1 + "%";
    });
  }
  function ready() { document.documentElement.dataset.mathReady = "yes"; }
  window.addEventListener("load", function () {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(ready);
    } else {
      ready();
    }
  });
  window.addEventListener("beforeprint", function () { fit(true); });
  window.addEventListener("afterprint", function () { fit(false); });
  window.bookFitMath = fit;
})();
