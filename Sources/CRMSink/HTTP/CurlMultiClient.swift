import CCurl

/// Runs many HTTP requests at once on one thread, through one libcurl multi handle.
///
/// With blocking clients, every request in flight holds a thread: a slow CRM ties up one per
/// request it has not answered. Here one thread starts requests (``start(_:tag:)``) and collects
/// the finished ones (``wait(upTo:)``); the connections (kept open, and multiplexed when the
/// server speaks HTTP/2) belong to the multi handle. On loopback the CPU per request is the same
/// as with blocking threads (`amibridge-bench webhooks throughput`).
///
/// Not thread-safe, except ``wake()``, which any thread may call to end a ``wait(upTo:)`` early.
public final class CurlMultiClient: @unchecked Sendable {
    // @unchecked: only `wake()` is used from other threads, and curl_multi_wakeup is thread-safe.

    /// A request that ended: its caller's `tag`, and the answer or why there is none.
    public struct Finished: Sendable {
        public var tag: Int
        public var result: Result<CurlHTTPResponse, CurlError>
    }

    public let concurrency: Int
    private let multi: UnsafeMutableRawPointer
    /// Easy handles not running a request, reused (with their settings reset) for the next.
    private var idle: [CurlTransfer] = []
    /// Running requests by easy handle, with their tags.
    private var running: [UnsafeMutableRawPointer: (transfer: CurlTransfer, tag: Int)] = [:]

    /// - Parameter concurrency: most requests running at once (and connections kept open).
    public init(concurrency: Int) throws(CurlError) {
        try CurlLibrary.ensureInitialised()
        guard let multi = curl_multi_init() else {
            throw CurlError(code: CurlError.Code(CURLE_FAILED_INIT), message: "curl_multi_init failed")
        }
        self.multi = multi
        self.concurrency = max(1, concurrency)
        _ = amib_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, self.concurrency)
    }

    deinit {
        for (handle, _) in self.running {
            curl_multi_remove_handle(self.multi, handle)
        }
        self.running.removeAll()
        self.idle.removeAll()
        curl_multi_cleanup(self.multi)
    }

    /// Requests started and not yet handed back by ``wait(upTo:)``.
    public var runningCount: Int { self.running.count }

    /// Room for another request.
    public var hasRoom: Bool { self.running.count < self.concurrency }

    /// Starts `request`; ``wait(upTo:)`` hands it back with `tag` once it ends. Throws, starting
    /// nothing, for a request that cannot be sent (see ``CurlHTTPClient/perform(_:)``) or when
    /// ``concurrency`` requests already run.
    public func start(_ request: CurlHTTPRequest, tag: Int) throws(CurlError) {
        guard self.hasRoom else {
            throw CurlError(code: .badFunctionArgument, message: "already \(self.concurrency) requests running")
        }
        let transfer: CurlTransfer
        if let reused = self.idle.popLast() {
            transfer = reused
        } else {
            transfer = try CurlTransfer()
        }
        do {
            try transfer.begin(request)
        } catch {
            self.idle.append(transfer)
            throw error
        }
        let added = curl_multi_add_handle(self.multi, transfer.handle)
        guard added == CURLM_OK else {
            transfer.endRequest()
            self.idle.append(transfer)
            throw CurlError(code: CurlError.Code(CURLE_FAILED_INIT), message: String(cString: curl_multi_strerror(added)))
        }
        self.running[transfer.handle] = (transfer, tag)
    }

    /// Runs the requests until at least one ends, ``wake()`` is called, or `limit` passes;
    /// returns the ones that ended (possibly none).
    public func wait(upTo limit: Duration) -> [Finished] {
        var finished = self.perform()
        guard finished.isEmpty else { return finished }
        let milliseconds = Int32(min(Double(Int32.max), max(0, (limit / .milliseconds(1)).rounded(.up))))
        _ = curl_multi_poll(self.multi, nil, 0, milliseconds, nil)
        finished = self.perform()
        return finished
    }

    /// Ends the current or next ``wait(upTo:)`` early. Callable from any thread.
    public func wake() {
        _ = curl_multi_wakeup(self.multi)
    }

    /// Lets libcurl move every request along without waiting, and collects those that ended.
    private func perform() -> [Finished] {
        var stillRunning: Int32 = 0
        _ = curl_multi_perform(self.multi, &stillRunning)
        var finished: [Finished] = []
        var queued: Int32 = 0
        while let message = curl_multi_info_read(self.multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let (transfer, tag) = self.running.removeValue(forKey: handle)
            else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(self.multi, handle)
            finished.append(Finished(tag: tag, result: transfer.finish(code)))
            self.idle.append(transfer)
        }
        return finished
    }
}
