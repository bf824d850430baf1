//! NETCONF RPC handling: arbitrary text parsed as XML and, when it is an `<rpc>`, dispatched to
//! the server exactly as a session does (against a real datastore in a temporary directory).
//! Every input must get a reply; nothing may panic.

#![no_main]

use std::sync::{Arc, OnceLock};

use agent::netconf::rpc::{self, Caller};
use agent::netconf::server::{Limits, Server};
use libfuzzer_sys::fuzz_target;
use yang::SchemaBuilder;

fn server() -> &'static Arc<Server> {
    static SERVER: OnceLock<Arc<Server>> = OnceLock::new();
    SERVER.get_or_init(|| {
        let schema = Arc::new(SchemaBuilder::new().embedded().build().expect("models"));
        let dir = std::env::temp_dir().join(format!("ne-fuzz-rpc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (store, _) = datastore::Datastore::open(&dir, Arc::clone(&schema)).expect("datastore");
        Server::new(schema, Arc::new(store), Limits::default())
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(el) = yang::xml::parse(text) else {
        return;
    };
    if el.name != "rpc" {
        let _ = rpc::malformed_reply(server(), "not an rpc");
        return;
    }
    let caller = Caller {
        id: 1,
        user: "fuzz",
        subscribed: false,
    };
    let reply = rpc::handle(server(), &caller, &el);
    assert!(reply.xml.starts_with("<rpc-reply"), "{}", reply.xml);
});
