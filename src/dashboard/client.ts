/**
 * The dashboard's one page script (served as /assets/dashboard.js, ~3 KB, no build step): sortable tables,
 * arrow keys between the tabs, live updates (an EventSource on /events; on each change the page is fetched
 * again and every `[data-live]` section is swapped in, unless the user is typing in it) and the price chart
 * (lightweight-charts' standalone build, from its JSON data block; when markers were left out it opens on the
 * stretch of the kept ones).
 */
import { createHash } from 'node:crypto';

export const CLIENT_JS = String.raw`(function(){
'use strict';
function bindSort(root){root.querySelectorAll('table.sortable th button').forEach(function(b){if(b.dataset.bound)return;b.dataset.bound='1';b.addEventListener('click',function(){
var t=b.closest('table'),i=+b.dataset.col,tb=t.tBodies[0],rows=[].slice.call(tb.rows),asc=b.dataset.dir!=='asc';
t.querySelectorAll('th button').forEach(function(x){delete x.dataset.dir;x.parentNode.removeAttribute('aria-sort')});
b.dataset.dir=asc?'asc':'desc';b.parentNode.setAttribute('aria-sort',asc?'ascending':'descending');
rows.sort(function(x,y){var a=x.cells[i].dataset.value,c=y.cells[i].dataset.value,na=parseFloat(a),nc=parseFloat(c);
var r=(!isNaN(na)&&!isNaN(nc))?na-nc:String(a).localeCompare(String(c));return asc?r:-r});
rows.forEach(function(r){tb.appendChild(r)})})})}
bindSort(document);
var tabs=[].slice.call(document.querySelectorAll('nav[aria-label="Dashboard tabs"] a'));
tabs.forEach(function(a,i){a.addEventListener('keydown',function(e){var j=null;
if(e.key==='ArrowRight')j=(i+1)%tabs.length;else if(e.key==='ArrowLeft')j=(i+tabs.length-1)%tabs.length;else if(e.key==='Home')j=0;else if(e.key==='End')j=tabs.length-1;
if(j!==null){e.preventDefault();tabs[j].focus()}})});
var status=document.getElementById('live-status');
if(document.querySelector('[data-live]')&&window.EventSource){var es=new EventSource('/events'),busy=false,again=false;
function refresh(){if(busy){again=true;return}busy=true;
fetch(location.href,{credentials:'same-origin',headers:{accept:'text/html'}}).then(function(r){return r.ok?r.text():null}).then(function(html){if(!html)return;
var doc=new DOMParser().parseFromString(html.replace(/<style[^>]*>[\s\S]*?<\/style>/,''),'text/html');
document.querySelectorAll('[data-live]').forEach(function(el){if(el.contains(document.activeElement))return;var n=doc.getElementById(el.id);if(n)el.replaceWith(document.importNode(n,true))});
bindSort(document);if(status)status.textContent='live: updated '+new Date().toISOString().slice(11,19)+' UTC';document.body.dataset.updates=String(1+(+document.body.dataset.updates||0))})
.catch(function(){}).then(function(){busy=false;if(again){again=false;refresh()}})}
es.addEventListener('change',refresh);
es.addEventListener('open',function(){if(status)status.textContent='live'});
es.addEventListener('error',function(){if(status)status.textContent='live: reconnecting'})}
var pc=document.getElementById('price-chart'),pd=document.getElementById('price-data');
if(pc&&pd&&window.LightweightCharts){var d=JSON.parse(pd.textContent),L=window.LightweightCharts;
var chart=L.createChart(pc,{height:340,layout:{textColor:'#1a1a1a',background:{type:'solid',color:'#ffffff'}},timeScale:{timeVisible:true},grid:{vertLines:{color:'#eee'},horzLines:{color:'#eee'}}});
var s=chart.addSeries(L.LineSeries,{color:'#0b4f9c',lineWidth:1,priceLineVisible:false});
s.setData(d.prices.map(function(p){return{time:p[0]/1000,value:p[1]}}));
var m=[];
d.entries.forEach(function(x){m.push({time:x[0]/1000,position:'belowBar',color:'#0a6b2c',shape:'arrowUp',text:''})});
d.exits.forEach(function(x){m.push({time:x[0]/1000,position:'aboveBar',color:'#a4161a',shape:'arrowDown',text:''})});
d.blocked.forEach(function(x){m.push({time:x[0]/1000,position:'inBar',color:'#b35900',shape:'circle',text:''})});
m.sort(function(a,b){return a.time-b.time});
L.createSeriesMarkers(s,m);var last=d.prices.length?d.prices[d.prices.length-1][0]:null;
if(d.from!=null&&last!==null&&last>d.from)chart.timeScale().setVisibleRange({from:d.from/1000,to:last/1000});else chart.timeScale().fitContent();
pc.dataset.points=String(d.prices.length);pc.dataset.markers=String(m.length);pc.dataset.ready='1'}
})();`;

/** a short content hash for the script's URL, so it can be cached for a year */
export const CLIENT_JS_VERSION = createHash('sha256').update(CLIENT_JS).digest('hex').slice(0, 12);
