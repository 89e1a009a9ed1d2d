// Each therapist's calendar colour, from the data-therapist-colour attribute into the
// --therapist custom property the stylesheet uses. Set through the CSSOM because the
// Content-Security-Policy refuses style="" attributes in the markup; run again on every piece
// of a page htmx swaps in.
(function () {
  "use strict";
  var HEX = /^#[0-9a-fA-F]{6}$/;

  function paint(root) {
    var elements = root.querySelectorAll ? root.querySelectorAll("[data-therapist-colour]") : [];
    var all = root.matches && root.matches("[data-therapist-colour]") ? [root].concat(Array.prototype.slice.call(elements)) : elements;
    Array.prototype.forEach.call(all, function (element) {
      var colour = element.getAttribute("data-therapist-colour");
      if (HEX.test(colour)) {
        element.style.setProperty("--therapist", colour);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { paint(document); });
  document.addEventListener("htmx:load", function (event) { paint(event.target); });
})();
