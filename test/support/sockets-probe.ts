/**
 * A component that connects with wasi:sockets/tcp, written in WAT against the canonical ABI by
 * hand: resources (own and borrow), the ip-socket-address variant of tuples, results through a
 * return pointer, enums. `probe(port)` connects to 127.0.0.1:PORT and answers 0 when connected,
 * 100 + the error-code's index otherwise (access-denied 101, connection-refused 114); as a
 * command (`{ port }`), `wasi:cli/run` is `ok` when it connected, `err` otherwise.
 */

import { buildComponent } from './build-component.js';

const ERROR_CODES =
  'unknown, access-denied, not-supported, invalid-argument, out-of-memory, timeout, concurrency-conflict, not-in-progress, would-block, invalid-state, new-socket-limit, address-not-bindable, address-in-use, remote-unreachable, connection-refused, connection-reset, connection-aborted, datagram-too-large, name-unresolvable, temporary-resolver-failure, permanent-resolver-failure';

export function socketsProbe(command?: { port: number }): Promise<Uint8Array> {
  const wit = `package test:sockets;
package wasi:io@0.2.0 {
  interface poll { resource pollable { block: func(); } }
  interface error { resource error; }
  interface streams { resource input-stream; resource output-stream; }
}
package wasi:sockets@0.2.0 {
  interface network {
    resource network;
    enum error-code { ${ERROR_CODES} }
    enum ip-address-family { ipv4, ipv6 }
    type ipv4-address = tuple<u8, u8, u8, u8>;
    type ipv6-address = tuple<u16, u16, u16, u16, u16, u16, u16, u16>;
    record ipv4-socket-address { port: u16, address: ipv4-address }
    record ipv6-socket-address { port: u16, flow-info: u32, address: ipv6-address, scope-id: u32 }
    variant ip-socket-address { ipv4(ipv4-socket-address), ipv6(ipv6-socket-address) }
  }
  interface instance-network { use network.{network}; instance-network: func() -> network; }
  interface tcp {
    use wasi:io/streams@0.2.0.{input-stream, output-stream};
    use wasi:io/poll@0.2.0.{pollable};
    use network.{network, error-code, ip-socket-address};
    resource tcp-socket {
      start-connect: func(network: borrow<network>, remote-address: ip-socket-address) -> result<_, error-code>;
      finish-connect: func() -> result<tuple<input-stream, output-stream>, error-code>;
      subscribe: func() -> pollable;
    }
  }
  interface tcp-create-socket {
    use network.{network, error-code, ip-address-family};
    use tcp.{tcp-socket};
    create-tcp-socket: func(address-family: ip-address-family) -> result<tcp-socket, error-code>;
  }
}
${command ? 'package wasi:cli@0.2.0 { interface run { run: func() -> result; } }\n' : ''}world probe {
  import wasi:sockets/instance-network@0.2.0;
  import wasi:sockets/tcp-create-socket@0.2.0;
  import wasi:sockets/tcp@0.2.0;
  import wasi:io/poll@0.2.0;
  ${command ? 'export wasi:cli/run@0.2.0;' : 'export probe: func(port: u16) -> u32;'}
}`;
  const wat = `(module
  (import "wasi:sockets/instance-network@0.2.0" "instance-network" (func $network (result i32)))
  (import "wasi:sockets/tcp-create-socket@0.2.0" "create-tcp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.start-connect"
    (func $start (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.finish-connect" (func $finish (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.subscribe" (func $subscribe (param i32) (result i32)))
  (import "wasi:sockets/tcp@0.2.0" "[resource-drop]tcp-socket" (func $drop_socket (param i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/poll@0.2.0" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (memory (export "memory") 1)
  (func $probe (param $port i32) (result i32)
    (local $net i32) (local $sock i32) (local $pollable i32) (local $code i32)
    (local.set $net (call $network))
    (call $create (i32.const 0) (i32.const 16))
    (if (i32.load8_u (i32.const 16)) (then (return (i32.add (i32.const 100) (i32.load8_u (i32.const 20))))))
    (local.set $sock (i32.load (i32.const 20)))
    (call $start (local.get $sock) (local.get $net)
      (i32.const 0) (local.get $port) (i32.const 127) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 32))
    (if (i32.load8_u (i32.const 32)) (then (return (i32.add (i32.const 100) (i32.load8_u (i32.const 36))))))
    (block $done
      (loop $again
        (call $finish (local.get $sock) (i32.const 48))
        (local.set $code (i32.const 0))
        (br_if $done (i32.eqz (i32.load8_u (i32.const 48))))
        (local.set $code (i32.add (i32.const 100) (i32.load8_u (i32.const 52))))
        (br_if $done (i32.ne (local.get $code) (i32.const 108)))
        (local.set $pollable (call $subscribe (local.get $sock)))
        (call $block (local.get $pollable))
        (call $drop_pollable (local.get $pollable))
        (br $again)))
    (call $drop_socket (local.get $sock))
    (local.get $code))
  ${
    command
      ? `(func (export "wasi:cli/run@0.2.0#run") (result i32) (i32.ne (call $probe (i32.const ${command.port})) (i32.const 0)))`
      : '(func (export "probe") (param i32) (result i32) (call $probe (local.get 0)))'
  })`;
  return buildComponent(wat, wit, 'probe');
}
