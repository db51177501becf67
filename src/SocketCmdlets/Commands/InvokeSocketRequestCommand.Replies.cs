using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace SocketCmdlets.Commands
{
    /// <summary>
    /// Invoke-SocketRequest -ReplyPattern / -ReplyUntil: replies of several lines (SMTP "250-...", Redis "$5" then the
    /// bulk string), read whole so that each stays paired with its request.
    /// </summary>
    public sealed partial class InvokeSocketRequestCommand
    {
        /// <summary>The most lines one reply may have unless -MaxReplyLines says otherwise.</summary>
        public const int DefaultMaxReplyLines = 10000;

        private Regex _replyEnd;
        private ErrorRecord _replyFailure;

        /// <summary>True when a reply is read whole, line by line, until -ReplyPattern or -ReplyUntil says it is complete.</summary>
        private bool WholeReplies => ReplyPattern != null || ReplyUntil != null;

        private void CheckReplyParameters()
        {
            if (ReplyPattern != null && ReplyUntil != null)
            {
                ThrowParameterError("ConflictingParameters", "Use -ReplyPattern or -ReplyUntil, not both: each says on its own when a reply is complete.");
            }

            if (!WholeReplies)
            {
                if (IsBound(nameof(MaxReplyLines)))
                {
                    ThrowParameterError("ConflictingParameters", "-MaxReplyLines limits the replies of -ReplyPattern or -ReplyUntil: use it with one of them.");
                }

                return;
            }

            if (IsBound(nameof(ByteCount)) || IsBound(nameof(Count)) || AsByteStream.IsPresent)
            {
                ThrowParameterError("ConflictingParameters",
                    "-ReplyPattern and -ReplyUntil gather the lines of a reply into one string[]; they do not combine with -ByteCount, -Count or -AsByteStream.");
            }

            if (ReplyPattern != null)
            {
                try
                {
                    _replyEnd = new Regex(ReplyPattern, RegexOptions.CultureInvariant);
                }
                catch (ArgumentException e)
                {
                    ThrowTerminatingError(ErrorFactory.Create(e, "InvalidReplyPattern", ErrorCategory.InvalidArgument, ReplyPattern,
                        $"-ReplyPattern '{ReplyPattern}' is not a valid regular expression: {e.Message}"));
                }
            }
        }

        /// <summary>
        /// Takes terminated records only: bytes the peer left without a terminator at the end of the stream are not a
        /// whole reply, so they stay buffered, uncounted.
        /// </summary>
        private static RecordHandler WholeRecord(Action<byte[], int, int> onRecord) => (buffer, offset, length, flags) =>
        {
            if ((flags & RecordFlags.Unterminated) != 0)
            {
                return false;
            }

            onRecord(buffer, offset, length);
            return true;
        };

        /// <summary>
        /// Receives lines until the reply is complete and writes them as one string[]; false when the peer closed the
        /// connection first. A reply longer than -MaxReplyLines, or a -ReplyUntil that fails, is kept in
        /// <see cref="_replyFailure"/> for the call to end with.
        /// </summary>
        private bool ReceiveWholeReply(long number)
        {
            var lines = new List<string>();
            ReadOnlyCollection<string> view = lines.AsReadOnly();
            string record = null;
            Action<byte[], int, int> onRecord = (buffer, offset, length) => record = TextDecoder.Decode(Encoding, buffer, offset, length);
            while (true)
            {
                if (_socket.ReceiveRecords(new RecordReader(Encoding, _delimiter, _line, MaxRecordLength), 1, _receiveTimeout, StopToken, WholeRecord(onRecord)) == 0)
                {
                    _partialReplyLines = lines.Count;
                    return false;
                }

                lines.Add(record);
                bool complete;
                try
                {
                    complete = IsComplete(view, record);
                }
                catch (RuntimeException e) when (!(e is PipelineStoppedException))
                {
                    _replyFailure = ErrorFactory.Create(e, "ReplyUntilFailed", ErrorCategory.InvalidResult, lines.ToArray(),
                        $"Request {number}: -ReplyUntil failed after line {lines.Count} of the reply: {e.Message} The lines so far are the error's TargetObject; later requests were not sent.");
                    return true;
                }

                if (complete)
                {
                    if (_verbose)
                    {
                        WriteVerbose($"Request {number}: a reply of {lines.Count} line(s) is complete.");
                    }

                    WriteObject(lines.ToArray(), false);
                    return true;
                }

                if (lines.Count >= MaxReplyLines)
                {
                    _replyFailure = ErrorFactory.Create(new InvalidOperationException("The reply has too many lines."), "ReplyTooLong", ErrorCategory.LimitsExceeded, lines.ToArray(),
                        $"Request {number}: {lines.Count} lines came from {Peer(_socket)} and none ended the reply (-MaxReplyLines). Check -ReplyPattern or -ReplyUntil, or raise -MaxReplyLines. "
                        + "The lines are the error's TargetObject; later requests were not sent.");
                    return true;
                }
            }
        }

        private bool IsComplete(ReadOnlyCollection<string> lines, string last)
        {
            if (_replyEnd != null)
            {
                return _replyEnd.IsMatch(last);
            }

            var underscore = new List<PSVariable> { new PSVariable("_", lines) };
            Collection<PSObject> results = ReplyUntil.InvokeWithContext(null, underscore, lines);
            return results.Count > 0 && LanguagePrimitives.IsTrue(results[results.Count - 1]);
        }

        /// <summary>Ends the call with the failure of the last reply, if any: the conversation is out of step after it.</summary>
        private void ThrowIfReplyFailed()
        {
            ErrorRecord failure = _replyFailure;
            if (failure != null)
            {
                _replyFailure = null;
                ThrowTerminatingError(failure);
            }
        }
    }
}
