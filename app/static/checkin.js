// The check-in page, improved when the browser allows: results as you type (the same page is
// fetched with ?q= and its results swapped in), and QR codes read by the camera through the
// BarcodeDetector API. Without JavaScript the search button and the code field do the same.
(function () {
  "use strict";

  function instantSearch() {
    var form = document.querySelector("form.checkin-search");
    if (!form || !window.fetch || !window.DOMParser) { return; }
    var input = form.querySelector("input[name=q]");
    var timer = null;
    var latest = 0;

    function swap(html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      ["checkin-results", "checkin-count"].forEach(function (id) {
        var fresh = page.getElementById(id);
        var current = document.getElementById(id);
        if (fresh && current) { current.replaceWith(fresh); }
      });
    }

    function search() {
      var url = form.action + "?q=" + encodeURIComponent(input.value.trim());
      var ticket = ++latest;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          // An older answer arriving late must not replace the results of newer typing.
          if (html === null || ticket !== latest) { return; }
          swap(html);
          window.history.replaceState(null, "", url);
        })
        .catch(function () { /* the search button still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });
  }

  function cameraScan() {
    var button = document.querySelector(".checkin-scan");
    var video = document.querySelector(".checkin-camera");
    if (!button || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    var form = button.form;
    var field = form.querySelector("input[name=code]");
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { return; }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
          .then(function (stream) {
            video.srcObject = stream;
            video.hidden = false;
            video.play();
            function stop() {
              stream.getTracks().forEach(function (track) { track.stop(); });
              video.hidden = true;
            }
            function look() {
              detector.detect(video).then(function (codes) {
                if (codes.length) {
                  stop();
                  field.value = codes[0].rawValue;
                  form.submit();
                } else {
                  window.setTimeout(look, 250);
                }
              }).catch(function () { window.setTimeout(look, 250); });
            }
            look();
          })
          .catch(function () { button.hidden = true; });
      });
    }).catch(function () { /* the text field remains */ });
  }

  instantSearch();
  cameraScan();
}());
