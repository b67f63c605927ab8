/* Tongban (通办) — small progressive enhancements; every page works without this file. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") {
      fn();
    } else {
      document.addEventListener("DOMContentLoaded", fn);
    }
  }

  ready(function () {
    /* The navigation collapses behind the menu button on narrow screens. */
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.querySelector(".primary-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") === "true";
        toggle.setAttribute("aria-expanded", open ? "false" : "true");
        if (open) {
          nav.removeAttribute("data-open");
        } else {
          nav.setAttribute("data-open", "");
        }
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && nav.hasAttribute("data-open")) {
          nav.removeAttribute("data-open");
          toggle.setAttribute("aria-expanded", "false");
          toggle.focus();
        }
      });
    }

    /* A form that came back with errors moves focus to its summary. */
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });
})();
