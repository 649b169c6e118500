import Foundation
import MPIShim

/// The collective watchdog: a rank that waits longer than `collectiveTimeout` in one collective
/// (because another rank stopped, hangs, or its node or network died) ends the whole job with a
/// message, instead of every rank waiting forever.
///
/// MPI has no timeout of its own and does not say which ranks a collective still waits for. So
/// every collective is started non-blocking and tested in a loop on the training thread (as a
/// blocking call would spin inside MPI anyway); meanwhile the rank answers, every
/// `answerInterval`, any other rank's question "which collective are you waiting in?" on
/// `watchdogChannel`. A rank whose wait passes the timeout asks every other rank that question,
/// waits up to `answerWait` for the answers, and aborts the job naming the ranks that did not
/// answer: those did not arrive (stopped, dead, or still computing). A rank that has answered a
/// question in its current wait leaves the diagnosis to the asker: it acts only `2 × answerWait`
/// after its own timeout, by when the asker has normally ended the job (Open MPI wakes stopped
/// ranks with SIGCONT while it kills them, so a later diagnosis could see them answer).
extension MPICommunicator {
    /// How often a waiting rank looks for other ranks' questions.
    static let answerInterval = 0.1

    /// How long a timed-out rank waits for the other ranks' answers.
    static let answerWait = 5.0

    /// The exit status of a job ended by the watchdog (as `timeout(1)`'s).
    public static let timeoutExitCode: Int32 = 124

    private static let questionTag: Int32 = 1
    private static let answerTag: Int32 = 2

    /// Starts one collective with `start` (which fills in its request) and waits for it.
    func collective(_ operation: String, _ start: (inout MPI_Request?) -> Int32) throws {
        var request: MPI_Request?
        try Self.check(start(&request), operation)
        collectivesStarted += 1
        var requests = [request]
        try waitWatched(&requests, operation)
    }

    /// Tests `requests` until all have completed, answering other ranks' questions meanwhile;
    /// past `collectiveTimeout` ends the job (see the type's comment).
    func waitWatched(_ requests: inout [MPI_Request?], _ operation: String) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        var nextAnswer = started
        var answeredAsker = false
        while true {
            var done: Int32 = 0
            try Self.check(MPI_Testall(Int32(requests.count), &requests, &done, dpo_mpi_statuses_ignore()), operation)
            if done != 0 { return }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now >= nextAnswer else { continue }
            nextAnswer = now + UInt64(Self.answerInterval * 1e9)
            answeredAsker = try answerQuestions() || answeredAsker
            let waited = Double(now - started) * 1e-9
            if let timeout = collectiveTimeout, waited > timeout + (answeredAsker ? 2 * Self.answerWait : 0) {
                abortAfterTimeout(operation: operation, waited: waited, timeout: timeout)
            }
        }
    }

    /// Answers every question waiting on `watchdogChannel` with the number of the collective this
    /// rank is in (8 bytes: sent at once, MPI's eager protocol). Returns whether there was any.
    @discardableResult
    private func answerQuestions() throws -> Bool {
        var answered = false
        while true {
            var found: Int32 = 0
            var status = MPI_Status()
            try Self.check(MPI_Iprobe(MPI_ANY_SOURCE, Self.questionTag, watchdogChannel, &found, &status), "MPI_Iprobe")
            guard found != 0 else { return answered }
            answered = true
            var question: Int64 = 0
            try Self.check(MPI_Recv(&question, 1, dpo_mpi_int64(), status.MPI_SOURCE, Self.questionTag, watchdogChannel,
                                    dpo_mpi_status_ignore()), "MPI_Recv")
            var answer = Int64(collectivesStarted)
            try Self.check(MPI_Send(&answer, 1, dpo_mpi_int64(), status.MPI_SOURCE, Self.answerTag, watchdogChannel),
                           "MPI_Send")
        }
    }

    /// Asks every other rank which collective it waits in, then aborts the job with
    /// `timeoutMessage`.
    private func abortAfterTimeout(operation: String, waited: Double, timeout: Double) -> Never {
        let others = (0..<size).filter { $0 != rank }
        let answers = UnsafeMutableBufferPointer<Int64>.allocate(capacity: size)
        let question = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        question.pointee = Int64(collectivesStarted)
        var sends = [MPI_Request?](repeating: nil, count: others.count)
        var receives = [MPI_Request?](repeating: nil, count: others.count)
        for (i, other) in others.enumerated() {
            MPI_Isend(question, 1, dpo_mpi_int64(), Int32(other), Self.questionTag, watchdogChannel, &sends[i])
            MPI_Irecv(answers.baseAddress! + other, 1, dpo_mpi_int64(), Int32(other), Self.answerTag, watchdogChannel,
                      &receives[i])
        }
        var answered = [Int: Int]()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(Self.answerWait * 1e9)
        while answered.count < others.count && DispatchTime.now().uptimeNanoseconds < deadline {
            for (i, other) in others.enumerated() where answered[other] == nil {
                var done: Int32 = 0
                MPI_Test(&receives[i], &done, dpo_mpi_status_ignore())
                if done != 0 { answered[other] = Int(answers[other]) }
            }
            _ = try? answerQuestions()  // another rank timing out at the same moment asks us too
        }
        abort(message: Self.timeoutMessage(activity: activity, operation: operation, collective: collectivesStarted,
                                           waited: waited, timeout: timeout, others: others, answers: answered),
              code: Self.timeoutExitCode)
    }

    /// The watchdog's message: where this rank waited and for how long, the ranks that did not
    /// answer (did not arrive), and where the ranks that answered are waiting.
    ///
    /// - Parameters:
    ///   - collective: the number of the collective this rank waits in (`collectivesStarted`).
    ///   - answers: the collective number each answering rank waits in, by rank.
    static func timeoutMessage(activity: String, operation: String, collective: Int, waited: Double, timeout: Double,
                               others: [Int], answers: [Int: Int]) -> String {
        func list(_ ranks: [Int]) -> String { ranks.map(String.init).joined(separator: ", ") }
        let missing = others.filter { answers[$0] == nil }
        let same = others.filter { answers[$0] == collective }
        let elsewhere = others.filter { answers[$0].map { $0 != collective } ?? false }
        var text = "\(activity): waited \(Int(waited)) s in \(operation) (collective \(collective) of this run), "
            + "longer than --collective-timeout \(Int(timeout)) s; aborting the job. "
        text += missing.isEmpty
            ? "Every other rank answered within \(Int(answerWait)) s, so MPI itself is stuck (a network or MPI failure)."
            : "Ranks that did not arrive: \(list(missing)) (no answer within \(Int(answerWait)) s: stopped, dead, "
                + "unreachable, or still computing)."
        if !same.isEmpty { text += " Waiting in the same collective: \(list(same))." }
        for other in elsewhere {
            text += " Rank \(other) waits in collective \(answers[other]!)."
        }
        return text
    }
}
