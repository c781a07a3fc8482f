// pm2 app entries. `pm2 start ecosystem.config.cjs` runs the bot from the current release slot.
// The entry runs TypeScript through tsx (bin/tollgate.js registers it), so no build step is needed.
module.exports = {
  apps: [
    {
      name: 'tollgate',
      script: 'bin/tollgate.js',
      args: 'replay --data data/kraken/XBTUSD_60.csv.gz --pair BTC/USD --logs logs --no-progress',
      cwd: __dirname,
      autorestart: false, // a replay ends; live/paper entries (issue 5) restart on crash
      max_memory_restart: '1G',
      out_file: 'logs/pm2-out.log',
      error_file: 'logs/pm2-err.log',
      time: true,
      env: { NODE_ENV: 'production' },
    },
  ],
};
