//! Metrics: `proxy_define_metric`, `proxy_increment_metric`, `proxy_record_metric`,
//! `proxy_get_metric`, per instance (read them with [`crate::vm::Vm::metric`]).

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi::{self, status};
use crate::state::{HostState, Metric};

fn metric<'a>(c: &'a mut Ctx<'_>, id: i32) -> Option<&'a mut Metric> {
    c.data_mut().metrics.get_mut(id as u32 as usize)
}

/// Defines the metric functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut c: Ctx<'_>, kind: i32, np: i32, ns: i32, out_id: i32| {
            if let Some(s) = c.data_mut().enter("proxy_define_metric") {
                return s;
            }
            let Ok(name) = abi::read_str(&mut c, np, ns) else {
                return status::INVALID_MEMORY_ACCESS;
            };
            let metrics = &mut c.data_mut().metrics;
            let id = match metrics.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    metrics.push(Metric {
                        name,
                        kind,
                        value: 0,
                    });
                    metrics.len() - 1
                }
            };
            done(abi::write_u32(&mut c, out_id, id as u32))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut c: Ctx<'_>, id: i32, by: i64| {
            if let Some(s) = c.data_mut().enter("proxy_increment_metric") {
                return s;
            }
            match metric(&mut c, id) {
                Some(m) => {
                    m.value = m.value.saturating_add(by);
                    status::OK
                }
                None => status::NOT_FOUND,
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut c: Ctx<'_>, id: i32, v: i64| {
            if let Some(s) = c.data_mut().enter("proxy_record_metric") {
                return s;
            }
            match metric(&mut c, id) {
                Some(m) => {
                    m.value = v;
                    status::OK
                }
                None => status::NOT_FOUND,
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut c: Ctx<'_>, id: i32, out: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_metric") {
                return s;
            }
            let Some(v) = metric(&mut c, id).map(|m| m.value) else {
                return status::NOT_FOUND;
            };
            done(abi::write(&mut c, out, &v.to_le_bytes()))
        },
    )?;
    Ok(())
}
