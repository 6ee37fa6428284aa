// Suggestions from the directory for the organisation field of the public registration form.
// Progressive enhancement: without this script the field is free text. With it, the names
// matching what is typed come from the page's JSON address (data-suggestions) into a native
// <datalist>, which browsers and screen readers present as suggestions; picking one also fills
// the hidden organisation id (data-organisation-id), which the server checks against the text.
(function () {
  "use strict";

  var DELAY_MS = 250;
  var MIN_LENGTH = 2;

  function enhance(input) {
    var url = input.getAttribute("data-suggestions");
    var hidden = document.getElementById(input.getAttribute("data-organisation-id"));
    var list = document.createElement("datalist");
    var idsByLabel = {};
    var timer = null;
    var lastQuery = "";

    list.id = input.id + "-suggestions";
    input.parentNode.appendChild(list);
    input.setAttribute("list", list.id);
    // The browser's own memory of typed values would hide the directory's suggestions.
    input.setAttribute("autocomplete", "off");

    function rememberChoice() {
      var id = idsByLabel[input.value.trim()];
      if (hidden) {
        hidden.value = id ? String(id) : "";
      }
    }

    function show(organisations) {
      list.textContent = "";
      organisations.forEach(function (organisation) {
        var option = document.createElement("option");
        option.value = organisation.label;
        idsByLabel[organisation.label] = organisation.id;
        list.appendChild(option);
      });
      rememberChoice();
    }

    function ask() {
      var query = input.value.trim();
      if (query.length < MIN_LENGTH || query === lastQuery) {
        return;
      }
      lastQuery = query;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { organisations: [] };
        })
        .then(function (data) {
          show(data.organisations || []);
        })
        .catch(function () {
          // No suggestions: the field stays free text.
        });
    }

    input.addEventListener("input", function () {
      rememberChoice();
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("change", rememberChoice);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggestions]"), enhance);
  });
})();
