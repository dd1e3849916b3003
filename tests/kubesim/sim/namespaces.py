"""The namespace controller (kube-controller-manager's, pkg/controller/
namespace/deletion/namespaced_resources_deleter.go, modelled): a namespace
whose deletion was asked for is Terminating; the controller deletes what
is in it, reports what remains (status conditions), and once it is empty
removes the `kubernetes` finalizer and with it the namespace."""

import threading

from .store import NAMESPACES


class NamespaceController:
    def __init__(self, store):
        self.store = store
        self.pending = set()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="namespaces",
                                       daemon=True)
        store.listeners.append(self._on_event)

    def start(self):
        self.thread.start()

    def reset(self):
        self.pending = set()

    def _on_event(self, event):
        """Store listener (under the store lock): note namespaces to look
        at again, those being deleted and those whose content changed."""
        meta = event.obj.get("metadata") or {}
        if event.resource == NAMESPACES:
            name = meta.get("name")
        else:
            name = meta.get("namespace")
        if not name or len(self.pending) > 10000:
            return
        ns = self.store.objects.get(NAMESPACES, {}).get(("", name))
        if ns is not None and ns["metadata"].get("deletionTimestamp"):
            self.pending.add(name)
            self.wake.set()

    def _run(self):
        while True:
            self.wake.wait(1.0)
            self.wake.clear()
            with self.store.cond:
                names, self.pending = self.pending, set()
            for name in sorted(names):
                try:
                    self.store.sweep_namespace(name)
                except Exception as exc:  # keep the loop alive; tests see it
                    print(f"kubesim: namespace controller error on {name}: "
                          f"{exc!r}", flush=True)
