// guard.js - the first script of every page: any script error marks <html data-status="error"> (tests read it).
window.addEventListener('error',function(){document.documentElement.setAttribute('data-status','error');});
