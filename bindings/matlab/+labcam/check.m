function check(status, h)
% LABCAM.CHECK  Raise an MException 'labcam:<STATUS_NAME>' with the library's message when
% STATUS is not 0 (labcam_last_error of handle H, or the thread's last error when H is 0).
  if status == 0
    return;
  end
  [~, name] = calllib('labcam', 'labcam_status_name', status, blanks(64), 64, 0);
  if isempty(name)
    name = sprintf('UNKNOWN_%d', -status);
  end
  if nargin > 1 && h ~= 0
    [st, msg] = calllib('labcam', 'labcam_last_error', h, blanks(4096), 4096, 0);
  else
    st = 1;
  end
  if st ~= 0
    [~, msg] = calllib('labcam', 'labcam_thread_last_error', blanks(4096), 4096, 0);
  end
  error(['labcam:' name], '%s', msg);
end
