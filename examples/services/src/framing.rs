//! Framing of keyprov messages over a byte stream: a `u32` big-endian length, then the message.
//!
//! A frame longer than the reader's limit is refused before any of its body is read, so a peer
//! cannot make a service allocate more than the limit.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest keyprov message a service accepts by default, in bytes.
pub const MAX_FRAME: usize = 16 * 1024;

/// Reads one frame. `Ok(None)` means the peer closed the stream cleanly between frames.
pub async fn read_frame<R>(reader: &mut R, max: usize) -> io::Result<Option<Vec<u8>>>
where
    R: AsyncRead + Unpin,
{
    let mut prefix = [0u8; 4];
    if reader.read(&mut prefix[..1]).await? == 0 {
        return Ok(None);
    }
    reader.read_exact(&mut prefix[1..]).await?;
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(invalid(format!("frame length {len} > maximum {max}")));
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// Writes one frame and flushes it.
pub async fn write_frame<W>(writer: &mut W, message: &[u8]) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    let len = u32::try_from(message.len()).map_err(|_| {
        invalid(format!(
            "frame length {} > maximum {}",
            message.len(),
            u32::MAX
        ))
    })?;
    // One write, so that prefix and body travel in one TLS record and one TCP segment.
    let mut frame = Vec::with_capacity(4 + message.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    writer.write_all(&frame).await?;
    writer.flush().await
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frame_round_trips_with_big_endian_prefix() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"abc").await.unwrap();
        assert_eq!(wire, [0, 0, 0, 3, b'a', b'b', b'c']);
        let mut reader = &wire[..];
        assert_eq!(read_frame(&mut reader, 3).await.unwrap().unwrap(), b"abc");
        assert!(read_frame(&mut reader, 3).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn oversized_frame_is_refused_before_reading_it() {
        let wire = [0u8, 1, 0, 0];
        let err = read_frame(&mut &wire[..], MAX_FRAME).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "frame length 65536 > maximum 16384");
    }

    #[tokio::test]
    async fn truncated_frame_is_an_error() {
        let wire = [0u8, 0, 0, 5, 1, 2];
        let err = read_frame(&mut &wire[..], MAX_FRAME).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let partial_prefix = [0u8, 0];
        let err = read_frame(&mut &partial_prefix[..], MAX_FRAME)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
