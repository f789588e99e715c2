// The health page's one script, inline and allowed by its SHA-256 in the CSP (no nonce to thread
// through, nothing external): every <time datetime> shows the viewer's own zone, with UTC on
// hover. Without script the server's text (relative, or UTC) stays, so nothing is lost.
import { createHash } from 'node:crypto';

export const LOCAL_TIMES_SCRIPT = `(function(){
var f=new Intl.DateTimeFormat(undefined,{year:'numeric',month:'short',day:'numeric',hour:'2-digit',minute:'2-digit',timeZoneName:'short'});
document.querySelectorAll('time[datetime]').forEach(function(t){
var d=new Date(t.getAttribute('datetime'));if(isNaN(d))return;
var utc=d.toISOString().slice(0,16).replace('T',' ')+' UTC';var local=f.format(d);
if(t.hasAttribute('data-absolute'))t.textContent=local;
t.title=(t.hasAttribute('data-absolute')?'':local+' · ')+utc;});
})();`;

export const LOCAL_TIMES_HASH = `'sha256-${createHash('sha256').update(LOCAL_TIMES_SCRIPT).digest('base64')}'`;
