"A small stand-in for the Hugging Face Hub on 127.0.0.1 that records what a client creates and commits (for HF_ENDPOINT)."
import base64, json, threading
import yaml
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class HubState:
    "What arrived: `repos` {repo_id: settings}, `commits` {repo_id: {path: bytes}}, `blobs` {oid: bytes}, and every request."
    def __init__(self):
        self.repos, self.commits, self.blobs, self.requests = {}, {}, {}, []
        self.taken, self.read_only, self.fail_commit, self.metadata = set(), set(), False, []

def _handler(state:HubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def _send(self, code:int, body=None, headers=None):
            data = json.dumps(body if body is not None else {}).encode()
            self.send_response(code); self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(data)))
            for k, v in (headers or {}).items(): self.send_header(k, v)
            self.end_headers(); self.wfile.write(data)
        def _body(self) -> bytes: return self.rfile.read(int(self.headers.get('Content-Length', 0) or 0))
        def _token(self) -> str: return self.headers.get('Authorization', '').removeprefix('Bearer ')
        def do_GET(self):
            state.requests.append(('GET', self.path))
            repo = self.path.split('?')[0].removeprefix('/api/models/')
            if self.path.startswith('/api/models/') and repo in state.repos: return self._send(200, {'id': repo, 'private': False})
            self._send(404, {'error': 'Repository not found'}, {'X-Error-Code': 'RepoNotFound'})
        def do_PUT(self):
            state.requests.append(('PUT', self.path))
            if self.path.startswith('/lfs-upload/'): state.blobs[self.path.rsplit('/', 1)[1]] = self._body(); return self._send(200)
            self._send(404)
        def do_POST(self):
            state.requests.append(('POST', self.path)); body = self._body(); base = f'http://{self.headers["Host"]}'
            if self._token() in state.read_only: return self._send(403, {'error': 'You do not have write access'})
            if self.path == '/api/repos/create':
                d = json.loads(body); repo = f"{d.get('organization')}/{d['name']}"
                if repo in state.taken: return self._send(409, {'error': 'You already created a space with the same name'})
                if repo in state.repos: return self._send(409, {'error': 'You already created this model repo', 'url': f'{base}/{repo}'})
                state.repos[repo] = d; return self._send(200, {'url': f'{base}/{repo}'})
            if self.path == '/api/validate-yaml':  # the Hub checks a card's metadata before the upload
                content = json.loads(body)['content']
                try: state.metadata.append(yaml.safe_load(content.split('---')[1] if content.startswith('---') else content))
                except yaml.YAMLError as e: return self._send(400, {'error': f'Invalid YAML: {e}'})
                return self._send(200, {'warnings': []})
            if '/preupload/' in self.path:
                files = json.loads(body)['files']
                return self._send(200, {'files': [dict(path=f['path'], uploadMode='lfs' if f['path'].endswith(('.pkl', '.png', '.jpg')) else 'regular',
                                                       shouldIgnore=False, oid=None) for f in files]})
            if self.path.endswith('.git/info/lfs/objects/batch'):
                objs = json.loads(body)['objects']
                return self._send(200, {'transfer': 'basic', 'objects': [dict(oid=o['oid'], size=o['size'],
                                        actions={'upload': {'href': f"{base}/lfs-upload/{o['oid']}"}}) for o in objs]})
            if '/commit/' in self.path:
                if state.fail_commit: return self._send(500, {'error': 'Internal Error'})
                repo = self.path.split('/api/models/')[1].split('/commit/')[0]
                files = {}
                for line in body.decode().splitlines():
                    op = json.loads(line)
                    if op['key'] == 'file': files[op['value']['path']] = base64.b64decode(op['value']['content'])
                    elif op['key'] == 'lfsFile': files[op['value']['path']] = state.blobs[op['value']['oid']]
                state.commits.setdefault(repo, {}).update(files)
                return self._send(200, {'commitUrl': f'{base}/{repo}/commit/1', 'commitOid': '1' * 40})
            self._send(404, {'error': f'not served here: {self.path}'})
    return Handler

def serve() -> tuple[ThreadingHTTPServer, HubState]:
    "Start the stand-in on a free port of 127.0.0.1 in a thread; `server.url` is its HF_ENDPOINT."
    state = HubState()
    srv = ThreadingHTTPServer(('127.0.0.1', 0), _handler(state))
    srv.url = f'http://127.0.0.1:{srv.server_address[1]}'
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, state
