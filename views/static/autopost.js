// Posts the sign-in response form as soon as the page loads; without JavaScript the person
// presses "Continue". Kept in a file of its own so the page's CSP needs no inline script.
document.getElementById('autopost').submit();
