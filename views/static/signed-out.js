// Back to the application that asked to sign out (its registered wreply), once every other
// application's cleanup frame has loaded, or after three seconds at most. Without JavaScript the
// person presses Continue.
(function () {
  var link = document.getElementById('continue');
  var frames = Array.prototype.slice.call(document.querySelectorAll('iframe.cleanup'));
  var left = frames.length;
  var go = function () { window.location.assign(link.href); };
  if (left === 0) return go();
  frames.forEach(function (frame) { frame.addEventListener('load', function () { if (--left === 0) go(); }); });
  setTimeout(go, 3000);
})();
