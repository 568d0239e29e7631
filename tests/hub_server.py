"""A small stand-in for the Hugging Face Hub on 127.0.0.1 (for HF_ENDPOINT): it records what a client creates and commits,
and serves committed files back as the Hub does (repo info, tree, resolve), so a download can follow an upload."""
import base64, hashlib, json, re, threading
from urllib.parse import unquote
import yaml
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class HubState:
    """What arrived: `repos` {key: settings}, `commits` {key: {path: bytes}} (the latest files), `history` {key: [files after each
    commit]}, `blobs` {oid: bytes}, and every request; a Space's key is 'spaces/' + its id."""
    def __init__(self):
        self.repos, self.commits, self.history, self.blobs, self.requests = {}, {}, {}, {}, []
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
        def _file(self, head:bool):
            "HEAD or GET /{repo}/resolve/{revision}/{path}: a committed file, with the headers `hf_hub_download` reads."
            m = re.match(r'/([^/]+/[^/]+)/resolve/([^/]+)/(.+)', self.path.split('?')[0])
            files = _at(state, m[1], unquote(m[2])) if m else None
            if files is None: return self._send(404, {'error': 'Revision not found'}, {'X-Error-Code': 'RevisionNotFound'})
            if unquote(m[3]) not in files: return self._send(404, {'error': 'Entry not found'}, {'X-Error-Code': 'EntryNotFound'})
            data = files[unquote(m[3])]
            self.send_response(200)
            for k, v in {'Content-Length': str(len(data)), 'ETag': f'"{hashlib.sha256(data).hexdigest()}"', 'X-Repo-Commit': _sha(files)}.items(): self.send_header(k, v)
            self.end_headers()
            if not head: self.wfile.write(data)
        def do_HEAD(self): state.requests.append(('HEAD', self.path)); self._file(head=True)
        def do_GET(self):
            state.requests.append(('GET', self.path))
            m = re.match(r'/api/(models|spaces)/([^/]+/[^/]+)(?:/(revision|tree)/([^/]+))?$', self.path.split('?')[0])
            if not m: return self._file(head=False)
            key = m[2] if m[1] == 'models' else f'spaces/{m[2]}'
            if key not in state.repos: return self._send(404, {'error': 'Repository not found'}, {'X-Error-Code': 'RepoNotFound'})
            files = _at(state, key, unquote(m[4] or 'main'))
            if files is None: return self._send(404, {'error': f'Invalid rev id: {m[4]}'}, {'X-Error-Code': 'RevisionNotFound'})
            if m[3] == 'tree':
                return self._send(200, [dict(type='file', path=p, size=len(d), oid=hashlib.sha1(d).hexdigest()) for p, d in sorted(files.items())])
            return self._send(200, {'id': m[2], 'private': False, 'sha': _sha(files), 'siblings': [{'rfilename': p} for p in sorted(files)]})
        def do_PUT(self):
            state.requests.append(('PUT', self.path))
            if self.path.startswith('/lfs-upload/'): state.blobs[self.path.rsplit('/', 1)[1]] = self._body(); return self._send(200)
            self._send(404)
        def do_POST(self):
            state.requests.append(('POST', self.path)); body = self._body(); base = f'http://{self.headers["Host"]}'
            if self._token() in state.read_only: return self._send(403, {'error': 'You do not have write access'})
            if self.path == '/api/repos/create':
                d = json.loads(body); repo = f"{d.get('organization')}/{d['name']}"
                key = f'spaces/{repo}' if d.get('type') == 'space' else repo
                if repo in state.taken: return self._send(409, {'error': 'You already created a repo of another type with the same name'})
                if key in state.repos: return self._send(409, {'error': 'You already created this repo', 'url': f'{base}/{key}'})
                state.repos[key] = d; return self._send(200, {'url': f'{base}/{key}'})
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
                kind, repo = re.match(r'/api/(models|spaces)/([^/]+/[^/]+)/commit/', self.path).groups()
                repo = repo if kind == 'models' else f'spaces/{repo}'
                files = {}
                for line in body.decode().splitlines():
                    op = json.loads(line)
                    if op['key'] == 'file': files[op['value']['path']] = base64.b64decode(op['value']['content'])
                    elif op['key'] == 'lfsFile': files[op['value']['path']] = state.blobs[op['value']['oid']]
                state.commits.setdefault(repo, {}).update(files)
                state.history.setdefault(repo, []).append(dict(state.commits[repo]))
                sha = _sha(state.commits[repo])
                return self._send(200, {'commitUrl': f'{base}/{repo}/commit/{sha}', 'commitOid': sha})
            self._send(404, {'error': f'not served here: {self.path}'})
    return Handler

def _at(state:HubState, key:str, rev:str) -> dict|None:
    "The files of repo `key` at revision `rev` (the branch `main`: the latest; else a commit id), or None if there is no such revision."
    latest = state.commits.get(key, {})
    if rev in ('main', _sha(latest)): return latest
    return next((f for f in state.history.get(key, []) if _sha(f) == rev), None)

def _sha(files:dict) -> str:
    "A commit id for the repo's current files."
    return hashlib.sha1(json.dumps({p: hashlib.sha256(d).hexdigest() for p, d in sorted(files.items())}).encode()).hexdigest()

def serve() -> tuple[ThreadingHTTPServer, HubState]:
    "Start the stand-in on a free port of 127.0.0.1 in a thread; `server.url` is its HF_ENDPOINT."
    state = HubState()
    srv = ThreadingHTTPServer(('127.0.0.1', 0), _handler(state))
    srv.url = f'http://127.0.0.1:{srv.server_address[1]}'
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, state
